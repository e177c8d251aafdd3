"""app/clock.py: the one clock, and the suite's --at option."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import parse_instant


def test_travel_without_tick_freezes_and_advance_moves_it(clock):
    instant = datetime(2026, 3, 8, 6, 55, tzinfo=UTC)
    clock.travel(instant, tick=False)
    assert clock.now() == instant == clock.now()
    clock.advance(timedelta(minutes=10))
    assert clock.now() == instant + timedelta(minutes=10)
    # 02:05 in New York does not exist that night: 07:05 UTC is 03:05 EDT, the new day is the 8th.
    assert clock.now().astimezone(ZoneInfo("America/New_York")).hour == 3
    assert clock.today(ZoneInfo("Asia/Shanghai")).isoformat() == "2026-03-08"


def test_travel_with_tick_runs_from_the_instant(clock):
    instant = datetime(2031, 12, 31, 15, 55, tzinfo=UTC)
    clock.travel(instant)
    assert timedelta(0) <= clock.now() - instant < timedelta(seconds=5)
    assert clock.offset_seconds() > 0
    assert clock.today(ZoneInfo("Asia/Shanghai")).isoformat() == "2031-12-31"


def test_naive_instants_are_refused(clock):
    with pytest.raises(ValueError):
        clock.travel(datetime(2026, 1, 1))


@pytest.mark.parametrize("text,expected", [
    ("2026-03-08 01:55 America/New_York", datetime(2026, 3, 8, 6, 55, tzinfo=UTC)),
    ("2026-12-31 23:55 Asia/Shanghai", datetime(2026, 12, 31, 15, 55, tzinfo=UTC)),
    ("2026-11-01 01:30:00 UTC", datetime(2026, 11, 1, 1, 30, tzinfo=UTC)),
    ("2026-06-01T12:00:00+08:00", datetime(2026, 6, 1, 4, 0, tzinfo=UTC)),
])
def test_at_option_reads_a_local_time_and_zone(text, expected):
    assert parse_instant(text) == expected


def test_at_option_needs_a_zone():
    with pytest.raises(ValueError):
        parse_instant("2026-06-01 12:00")
