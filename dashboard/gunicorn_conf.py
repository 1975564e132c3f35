"""gunicorn settings for ``dunning serve``: gunicorn's own log lines (startup, workers, requests) as JSON lines
through the connector's redacting handler, like everything the web app logs (``dashboard.wsgi``)."""

from __future__ import annotations

from connector.settings import Settings

_level = Settings().log_level.upper()

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "root": {"level": _level, "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": _level, "handlers": [], "propagate": True, "qualname": "gunicorn.error"},
        "gunicorn.access": {"level": _level, "handlers": [], "propagate": True, "qualname": "gunicorn.access"},
    },
    "handlers": {"json": {"()": "connector.logging.json_handler"}},
    "formatters": {},
}
