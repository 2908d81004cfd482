"""WSGI entry point: ``gunicorn wsgi:app``."""

from outreach import create_app

app = create_app()
