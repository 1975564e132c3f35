"""WSGI entry point for gunicorn: ``gunicorn dashboard.wsgi:app`` (settings from the environment; logs as JSON
lines, the way ``dunning serve`` runs it)."""

from __future__ import annotations

from connector.logging import configure_logging
from connector.settings import Settings
from dashboard import create_app

settings = Settings()
configure_logging(settings.log_level, json=True)
app = create_app(settings)
