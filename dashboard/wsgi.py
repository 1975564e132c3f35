"""WSGI entry point for gunicorn: ``gunicorn dashboard.wsgi:app`` (settings from the environment)."""

from __future__ import annotations

from connector.settings import Settings
from dashboard import create_app

app = create_app(Settings())
