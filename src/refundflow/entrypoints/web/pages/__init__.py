"""Server-rendered pages (Jinja2 + htmx): the customer portal and the policy page."""
