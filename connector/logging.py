"""Structured logging for every process (CLI, web, worker): structlog configuration plus secret redaction.

Sits beside the data flow: every layer logs through ``structlog.get_logger(__name__)``; ``configure_logging``
(called once at the entry point with ``Settings``) routes structlog and stdlib loggers (urllib3, authlib, huey,
gunicorn) through one ``ProcessorFormatter`` that renders JSON in production and a console format in
development. ``redact_secrets`` masks any value whose key looks like a credential
(docs/architecture.md#logging-and-secrets, docs/architecture.md#tokens) and truncates long bodies; ``scrub_text`` does
the same for free text such as error-body excerpts.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog
from structlog.types import EventDict, Processor, WrappedLogger

MASK = "***"
MAX_VALUE_CHARS = 500  # longer strings (response bodies) are truncated
# Libraries whose loggers would otherwise keep their own level (werkzeug sets INFO at its first request line):
# they follow the level chosen here, so a quiet console stays quiet.
LIBRARY_LOGGERS = ("werkzeug", "alembic", "mail.log", "huey", "urllib3", "authlib", "gunicorn.error")

SENSITIVE_KEY = re.compile(r"token|secret|authorization|password|code|hashcode|signature", re.IGNORECASE)
# Keys that match the pattern above but never hold secrets (status codes, currency codes, ...).
_HARMLESS_KEYS = frozenset(
    {"status_code", "currency_code", "error_code", "country_code", "exit_code", "code_challenge_method"}
)

# "access_token": "...", refresh_token=..., Bearer ..., code=... inside free text (URLs, bodies, messages).
_JSON_SECRET = re.compile(
    r'("(?:[\w-]*(?:token|secret|password|code|hashcode|signature)[\w-]*)"\s*:\s*)"[^"]*"', re.IGNORECASE
)
_FORM_SECRET = re.compile(
    r"((?:^|[?&\s,;])[\w-]*(?:token|secret|password|code|hashcode|signature)[\w-]*=)[^&\s,;]+", re.IGNORECASE
)
_BEARER = re.compile(r"(\b(?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)


def is_sensitive_key(key: object) -> bool:
    return isinstance(key, str) and key.lower() not in _HARMLESS_KEYS and bool(SENSITIVE_KEY.search(key))


def scrub_text(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """Mask credentials that appear inside free text and truncate it to ``limit`` characters."""
    text = _JSON_SECRET.sub(rf'\1"{MASK}"', text)
    text = _FORM_SECRET.sub(rf"\1{MASK}", text)
    text = _BEARER.sub(rf"\1{MASK}", text)
    if len(text) > limit:
        text = f"{text[:limit]}...[{len(text) - limit} more chars]"
    return text


def _redact_value(value: Any, depth: int = 0) -> Any:
    if depth > 6:
        return value
    if isinstance(value, Mapping):
        return {k: MASK if is_sensitive_key(k) else _redact_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v, depth + 1) for v in value)
    if isinstance(value, bytes):
        return scrub_text(value.decode("utf-8", "replace"))
    if isinstance(value, str):
        return scrub_text(value)
    return value


def redact_secrets(_logger: WrappedLogger, _method: str, event_dict: EventDict) -> EventDict:
    """structlog processor: mask credential-like keys (recursively) and truncate long values."""
    for key in list(event_dict):
        if key == "exception" and isinstance(event_dict[key], str):
            event_dict[key] = scrub_text(event_dict[key], limit=20_000)  # keep tracebacks whole
        elif key == "event":
            event_dict[key] = _redact_value(event_dict[key])
        elif is_sensitive_key(key):
            event_dict[key] = MASK
        else:
            event_dict[key] = _redact_value(event_dict[key])
    return event_dict


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact_secrets,
    ]


def make_handler(*, json: bool = False, stream: Any = None) -> logging.Handler:
    """A handler rendering stdlib and structlog records through the redacting ``ProcessorFormatter`` (JSON lines or
    the console format); marked so that configuring again replaces it instead of adding a second one."""
    shared = _shared_processors()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    renderer: Processor = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_secrets,  # again: exception text rendered above may quote a body
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(formatter)
    handler._dunning = True  # type: ignore[attr-defined]
    return handler


def json_handler() -> logging.Handler:
    """The JSON-lines handler, for ``logging.config.dictConfig`` (gunicorn's ``logconfig_dict`` under ``serve``)."""
    return make_handler(json=True)


def console_handler() -> logging.Handler:
    """The console-format handler, for ``logging.config.dictConfig`` when DUNNING_LOG_JSON is false."""
    return make_handler(json=False)


def configure_logging(level: str = "INFO", *, json: bool = False, stream: Any = None) -> None:
    """Route structlog and stdlib logging (the libraries' loggers too) through one redacting handler on ``stream``."""
    handler = make_handler(json=json, stream=stream)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_dunning", False):
            root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level.upper())


def unconfigure_logging() -> None:
    """Remove the handler ``configure_logging`` installed and restore structlog's defaults (tests, reloads)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_dunning", False):
            root.removeHandler(existing)
    root.setLevel(logging.WARNING)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    structlog.reset_defaults()


def configure_from_settings(settings: Any, *, service: bool = False) -> None:
    """Logging as ``settings`` ask; a long-running service (``serve``, ``worker``) logs JSON lines unless
    DUNNING_LOG_JSON says otherwise."""
    configure_logging(settings.log_level, json=wants_json(settings, service=service))


def wants_json(settings: Any, *, service: bool) -> bool:
    """JSON lines when DUNNING_LOG_JSON is true, or, for a service, when it is not set at all."""
    return bool(settings.log_json) if "log_json" in settings.model_fields_set else service


def gunicorn_logconfig(settings: Any) -> dict[str, Any]:
    """``logconfig_dict`` for gunicorn's master: its own lines (boot, workers, signals) through the same redacting
    handler, at DUNNING_LOG_LEVEL, in the format DUNNING_LOG_JSON chooses (``dashboard.gunicorn_conf``)."""
    level = str(settings.log_level).upper()
    handler = "json_handler" if wants_json(settings, service=True) else "console_handler"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "root": {"level": level, "handlers": ["dunning"]},
        "loggers": {
            name: {"level": level, "handlers": [], "propagate": True, "qualname": name}
            for name in ("gunicorn.error", "gunicorn.access")
        },
        "handlers": {"dunning": {"()": f"connector.logging.{handler}"}},
        "formatters": {},
    }


def redact_mapping(values: MutableMapping[str, Any]) -> dict[str, Any]:
    """A redacted copy of ``values`` (for error messages and repr)."""
    return {k: MASK if is_sensitive_key(k) else _redact_value(v) for k, v in values.items()}
