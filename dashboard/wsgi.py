"""WSGI entry point for gunicorn: ``gunicorn -c python:dashboard.gunicorn_conf dashboard.wsgi:app``, the way
``dunning serve`` runs it (settings from the environment; logging at DUNNING_LOG_LEVEL, JSON lines unless
DUNNING_LOG_JSON is false, secrets redacted). Loaded once in gunicorn's master (``preload_app``): the workers
inherit the configured logging and the app."""

from __future__ import annotations

from connector.logging import configure_from_settings
from connector.settings import Settings
from dashboard import create_app

settings = Settings()
configure_from_settings(settings, service=True)
app = create_app(settings)
