"""The staff console (server-rendered, Jinja2 + htmx): queues, cases, the warehouse desk,
finance, the no-code policy and settings editors, and the dashboard."""
