"""The one clock. Every module reads the time here, so a test can set it.

Production reads the system clock in UTC. Outside production the clock may run at an offset
(``ONSITE_CLOCK_OFFSET`` seconds, given by the test suite to its live servers and CLI runs, so that
every process of one test run agrees on "now") and tests may travel or freeze it in-process.
Nothing here imports the app: models, services and scripts may all read it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """Return the current instant, timezone-aware in UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC) + _offset


def today(zone: tzinfo) -> date:
    """Return today's date in ``zone`` (a store's zone, never the machine's)."""
    return now().astimezone(zone).date()


def set_offset(seconds: float) -> None:
    """Run the clock ``seconds`` ahead of the system clock (behind when negative), ticking."""
    global _offset, _frozen
    _offset = timedelta(seconds=seconds)
    _frozen = None


def offset_seconds() -> float:
    """Return how far the clock runs ahead of the system clock (for child processes to agree)."""
    return _offset.total_seconds()


def travel(instant: datetime, *, tick: bool = True) -> None:
    """Make ``now()`` return ``instant`` from this call on: ticking from there, or frozen when ``tick`` is False."""
    global _frozen
    if instant.tzinfo is None:
        raise ValueError("the clock takes timezone-aware instants")
    if tick:
        set_offset((instant - datetime.now(UTC)).total_seconds())
    else:
        _frozen = instant.astimezone(UTC)


def advance(delta: timedelta) -> None:
    """Move the clock on by ``delta`` (frozen clocks stay frozen)."""
    global _frozen, _offset
    if _frozen is not None:
        _frozen += delta
    else:
        _offset += delta


def reset() -> None:
    """Read the system clock again."""
    set_offset(0)
