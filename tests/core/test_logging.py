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
    finally:
        structlog.contextvars.clear_contextvars()
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert [line["event"] for line in lines] == ["loud", "failed"]
    loud, failed = lines
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
