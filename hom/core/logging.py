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

    A structlog call below LOG_LEVEL returns at once (no processor runs: one request line
    per request is below WARNING), and JSON lines are rendered by orjson.
    """
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(serializer=_json)
        if settings.effective_log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(settings.log_level),
        cache_logger_on_first_use=True,
    )
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
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # uvicorn's access log would duplicate our one line per request; without handlers on
    # its way up, uvicorn does not even format the line.
    access = logging.getLogger("uvicorn.access")
    access.disabled, access.propagate = True, False
    access.handlers.clear()
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def _json(event: Any, **_: Any) -> str:
    return orjson.dumps(event, default=repr, option=orjson.OPT_NON_STR_KEYS).decode()


def mask_email(email: str) -> str:
    """`jane.doe@example.com` → `j***@example.com`: enough to correlate, not to identify."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
