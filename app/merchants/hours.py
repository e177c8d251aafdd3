"""Opening hours in a store's local time: intervals that cross midnight, dated exceptions, DST.

No database here; ``app.discovery.services.open_now_clause`` says the same rules in SQL, and the
integration tests hold the two to agreeing at many instants.

- An interval belongs to the local date it opens on. ``closes <= opens`` means it closes on the next
  local date: Monday 18:00–02:00 is open from Monday 18:00 until Tuesday 02:00, so Tuesday 01:00 is
  open on Monday's hours. ``opens == closes`` is open 24 hours (10:00–10:00 until 10:00 the next day,
  00:00–00:00 the whole date).
- A dated exception (closed all day, or special hours, which may cross midnight too) replaces the
  intervals of its own date only: the tail of the evening before still runs into it. To end Monday
  night early, give Monday special hours (18:00–00:00), not Tuesday a closure.
- A wall time stands for its latest reading, as PostgreSQL's ``AT TIME ZONE`` reads it: a time that
  happens twice when the clocks go back is its second occurrence (a bar open until 01:30 on the
  fall-back night stays open through the repeated hour), a time skipped when they go forward is read
  with the offset before the jump (02:30 on the spring-forward night is 03:30 daylight time). Open or
  closed is decided between instants, so a clock change never closes and reopens a store.
- A store's business day runs from the end of the previous evening's overnight opening (or local
  midnight) to the end of its own (or the next local midnight): a visit at 00:30 after a night's
  opening belongs to the day that opened the evening before.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

if TYPE_CHECKING:
    from app.merchants.models import Store

# Short weekday names in the request's language (lazy: read when shown).
WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))
ONE_DAY = timedelta(days=1)
_DAY = 24 * 3600  # seconds
_WEEK = 7 * _DAY


def ends_next_day(opens: time, closes: time) -> bool:
    """Tell whether an interval closes on the local date after the one it opens on."""
    return closes <= opens


def describe(opens: time, closes: time) -> str:
    """Say an interval as people read it: 09:00–18:00, 18:00–02:00 (next day), 10:00–10:00 (24 hours)."""
    text = f"{opens:%H:%M}–{closes:%H:%M}"
    if closes == opens:
        return _("%(hours)s (24 hours)", hours=text)
    if closes == time(0):
        return _("%(hours)s (midnight)", hours=text)
    return _("%(hours)s (next day)", hours=text) if ends_next_day(opens, closes) else text


def local_instant(day: date, at: time, zone: tzinfo) -> datetime:
    """Return the instant (UTC) a store-local wall time stands for: its latest reading."""
    wall = datetime.combine(day, at)
    return max(wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1))


def span(day: date, opens: time, closes: time, zone: tzinfo) -> tuple[datetime, datetime]:
    """Return the instants an interval opening on ``day`` is open between: [opens, closes)."""
    closing_day = day + ONE_DAY if ends_next_day(opens, closes) else day
    return local_instant(day, opens, zone), local_instant(closing_day, closes, zone)


def week_overlap(intervals: Iterable[tuple[int, time, time]]) -> str | None:
    """Say where two weekly ``(weekday, opens, closes)`` intervals overlap, or None when none do.

    Overnight tails count on the next day, Sunday's on Monday; touching (one closes as the next opens) is fine.
    """
    def seconds(t: time) -> int:
        return t.hour * 3600 + t.minute * 60 + t.second

    def week_span(weekday: int, opens: time, closes: time) -> tuple[int, int]:
        start = weekday * _DAY + seconds(opens)
        return start, start + ((seconds(closes) - seconds(opens)) % _DAY or _DAY)

    rows = sorted(intervals)
    for index, first in enumerate(rows):
        a_start, a_end = week_span(*first)
        for second in rows[index + 1:]:
            b_start, b_end = week_span(*second)
            for shift in (-_WEEK, 0, _WEEK):  # the week wraps: Sunday night runs into Monday
                start, end = max(a_start, b_start + shift), min(a_end, b_end + shift)
                if start < end:
                    day = start // _DAY % 7
                    earlier = first if a_start <= b_start + shift else second
                    if earlier[0] == day:
                        return _("intervals overlap on %(day)s", day=WEEKDAYS[day])
                    return _("intervals overlap on %(day)s (%(earlier)s %(hours)s runs into it)",
                             day=WEEKDAYS[day], earlier=WEEKDAYS[earlier[0]],
                             hours=describe(earlier[1], earlier[2]))
    return None


# -- a store's hours (its ``timezone``, ``hours`` and ``exceptions`` as loaded; no queries) ------------------

def store_zone(store: Store) -> ZoneInfo | None:
    try:
        return ZoneInfo(store.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def intervals_on(store: Store, day: date) -> list[tuple[time, time]]:
    """Return the intervals that open on a local date, its dated exception applied."""
    exception = next((e for e in store.exceptions if e.day == day), None)
    if exception is not None:
        return [] if exception.is_closed else [(exception.opens_at, exception.closes_at)]
    return [(h.opens_at, h.closes_at) for h in store.hours if h.weekday == day.weekday()]


def spans_on(store: Store, day: date, zone: tzinfo) -> list[tuple[datetime, datetime]]:
    """Return the instants each interval opening on a local date is open between."""
    return [span(day, opens, closes, zone) for opens, closes in intervals_on(store, day)]


def is_open_at(store: Store, moment: datetime) -> bool:
    """Tell whether the store is open at an aware moment, by its own clock (yesterday's overnight hours too)."""
    zone = store_zone(store)
    if zone is None:
        return False
    today = moment.astimezone(zone).date()
    return any(start <= moment < end for day in (today - ONE_DAY, today) for start, end in spans_on(store, day, zone))


def business_day_bounds(store: Store, day: date) -> tuple[datetime, datetime]:
    """Return the instants a business day runs between: from the end of the night before's opening
    (or local midnight) to the end of its own overnight opening (or the next local midnight)."""
    zone = store_zone(store) or UTC
    start = max([local_instant(day, time(0), zone), *(end for _, end in spans_on(store, day - ONE_DAY, zone))])
    end = max([local_instant(day + ONE_DAY, time(0), zone), *(end for _, end in spans_on(store, day, zone))])
    return start, end


def business_day(store: Store, moment: datetime) -> date:
    """Return the business day a moment belongs to: 00:30 after an evening opening is still the evening's."""
    today = moment.astimezone(store_zone(store) or UTC).date()
    return today - ONE_DAY if moment < business_day_bounds(store, today)[0] else today
