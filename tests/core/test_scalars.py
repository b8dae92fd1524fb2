"""The DateTime scalar's two spellings agree: `iso_utc` (the executor's) and orjson's of
`in_utc` (the compiled path's computed fields), to the byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import orjson
import pytest

from hom.core.clock import iso_utc
from hom.core.graphql.scalars import ORJSON_FORMS, in_utc

BERLIN = ZoneInfo("Europe/Berlin")
MOMENTS = [
    datetime(2030, 5, 6, 7, 0, tzinfo=UTC),
    datetime(2030, 5, 6, 7, 0, 0, 1, tzinfo=UTC),  # microseconds are spelt
    datetime(2030, 5, 6, 7, 0, 0, 120000, tzinfo=UTC),
    datetime(2030, 5, 6, 9, 30),  # naive: taken as UTC
    datetime(2030, 3, 31, 2, 30, tzinfo=BERLIN),  # in the gap of a clock change
    datetime(2030, 10, 27, 2, 30, fold=1, tzinfo=BERLIN),  # twice that night
    datetime(2030, 1, 1, tzinfo=ZoneInfo("UTC")),
    datetime(2030, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=45))),
    datetime(1, 1, 1, 12, tzinfo=timezone(timedelta(hours=-11))),
    datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),  # years below 1000 are zero-padded
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


@pytest.mark.parametrize("moment", MOMENTS, ids=str)
def test_orjson_spells_in_utc_as_iso_utc(moment: datetime) -> None:
    assert orjson.dumps(in_utc(moment)) == orjson.dumps(iso_utc(moment))
    assert ORJSON_FORMS["DateTime"] is in_utc
