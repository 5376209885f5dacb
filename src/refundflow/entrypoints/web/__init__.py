"""The FastAPI application: REST API (and later the portal and the console)."""
