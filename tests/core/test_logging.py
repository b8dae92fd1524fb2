"""Log configuration: below LOG_LEVEL a structlog call does nothing; JSON lines by orjson."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator

import pytest
import structlog

from hom.core.config import Settings
from hom.core.logging import configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


@pytest.mark.usefixtures("restore_logging")
def test_json_lines_at_or_above_the_level(
    settings_factory: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings_factory(log_format="json", log_level="WARNING"))
    log = structlog.get_logger("hom.test")
    structlog.contextvars.bind_contextvars(request_id="r-1")
    try:
        log.info("quiet", detail=1)
        log.warning("loud", detail={2: "non-string key"}, at=object)
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("failed")
        logging.getLogger("uvicorn.error").warning("from the stdlib %s", "too")
    finally:
        structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["loud", "failed", "from the stdlib too"]
    loud, failed, stdlib = lines
    assert set(loud) >= {"timestamp", "level", "logger", "event", "request_id"}
    assert set(stdlib) >= {"timestamp", "level", "logger", "event", "request_id"}
    assert stdlib["logger"] == "uvicorn.error"
    assert loud["request_id"] == "r-1"
    assert loud["level"] == "warning"
    assert loud["logger"] == "hom.test"
    assert loud["detail"] == {"2": "non-string key"}
    assert "ValueError: boom" in failed["exception"]


@pytest.mark.usefixtures("restore_logging")
def test_below_the_level_no_processor_runs(
    settings_factory: Callable[..., Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    configure_logging(settings_factory(log_level="WARNING"))
    ran: list[str] = []
    config = structlog.get_config()
    monkeypatch.setitem(config, "processors", [lambda *a: ran.append("ran") or a[2]])
    structlog.get_logger("hom.test.quiet").info("request", status=200)
    assert ran == []


@pytest.mark.usefixtures("restore_logging")
def test_console_lines_in_dev(
    settings_factory: Callable[..., Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(settings_factory(log_format="console", log_level="INFO"))
    structlog.get_logger("hom.test.console").info("request", status=200)
    line = capsys.readouterr().err
    assert "request" in line
    assert "status=200" in line
