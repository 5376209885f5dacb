"""Entry points: the web app, the worker and the CLI. They translate, then call services."""
