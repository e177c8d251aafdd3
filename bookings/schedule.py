"""Weekly schedules to dated slots, in the store's wall-clock time (DST never moves a 10:00 class)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _

from app.errors import ValidationFailed

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
MAX_TIMES_PER_DAY = 48


def parse_hhmm(value: Any, field: str) -> time:
    """Parse a HH:MM wall-clock time.

    :raises ValidationFailed: otherwise.
    """
    if isinstance(value, str) and (match := _TIME.match(value.strip())):
        return time(int(match.group(1)), int(match.group(2)))
    if value in (None, ""):
        raise ValidationFailed(details={field: _("An empty value is not a time: use HH:MM, from 00:00 to 23:59.")})
    raise ValidationFailed(details={field: _("%(value)s is not a time: use HH:MM, from 00:00 to 23:59.",
                                             value=str(value)[:20])})


def every(start: time, end: time, minutes: int) -> list[time]:
    """Start times from ``start`` while a class still starts before ``end``, ``minutes`` apart."""
    if not 5 <= minutes <= 720:
        raise ValidationFailed(details={"every.minutes": _("must be between 5 and 720.")})
    if end <= start:
        raise ValidationFailed(details={"every.to": _("must be after the first start time.")})
    out, current = [], datetime.combine(date.min, start)
    stop = datetime.combine(date.min, end)
    while current < stop:
        out.append(current.time())
        current += timedelta(minutes=minutes)
    return out


@dataclass(frozen=True)
class WeeklyPlan:
    """Start times per weekday (0 = Monday), store-local."""

    times: dict[int, tuple[time, ...]]


def parse_weekly(data: Mapping[str, Any]) -> WeeklyPlan:
    """Read ``weekly: [{weekday, times: [HH:MM]}]`` and/or ``every: {weekdays, from, to, minutes}``.

    :raises ValidationFailed: on bad weekdays, times or ranges.
    """
    plan: dict[int, set[time]] = {}
    weekly = data.get("weekly") or []
    if not isinstance(weekly, list):
        raise ValidationFailed(details={"weekly": _("must be a list of {weekday, times}.")})
    for index, item in enumerate(weekly):
        if not isinstance(item, Mapping):
            raise ValidationFailed(details={f"weekly[{index}]": _("must be an object {weekday, times}.")})
        weekday = item.get("weekday")
        if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise ValidationFailed(details={f"weekly[{index}].weekday": _("must be 0 (Monday) to 6 (Sunday).")})
        times = item.get("times")
        if not isinstance(times, list):
            raise ValidationFailed(details={f"weekly[{index}].times": _("must be a list of HH:MM.")})
        plan.setdefault(weekday, set()).update(parse_hhmm(t, f"weekly[{index}].times") for t in times)
    rule = data.get("every")
    if rule:
        if not isinstance(rule, Mapping):
            raise ValidationFailed(details={"every": _("must be {weekdays, from, to, minutes}.")})
        weekdays = rule.get("weekdays", list(range(7)))
        if not isinstance(weekdays, list) or not all(
                isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in weekdays):
            raise ValidationFailed(details={"every.weekdays": _("must be a list of 0 (Monday) to 6 (Sunday).")})
        minutes = rule.get("minutes")
        if isinstance(minutes, bool) or not isinstance(minutes, int):
            raise ValidationFailed(details={"every.minutes": _("must be a whole number of minutes.")})
        starts = every(parse_hhmm(rule.get("from"), "every.from"), parse_hhmm(rule.get("to"), "every.to"), minutes)
        for weekday in weekdays:
            plan.setdefault(weekday, set()).update(starts)
    for times in plan.values():
        if len(times) > MAX_TIMES_PER_DAY:
            raise ValidationFailed(details={"weekly": _("at most %(num)d start times a day.", num=MAX_TIMES_PER_DAY)})
    return WeeklyPlan({weekday: tuple(sorted(times)) for weekday, times in plan.items() if times})


def local_start(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of a store-local wall-clock time (in a DST gap, the time just after it)."""
    # zoneinfo reads a missing time (02:30 on a spring-forward night) with the offset before the
    # change, which lands on 03:30 local: what the clock on the wall shows then.
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def planned_starts(times: Mapping[int, Iterable[time]], days_off: set[date],
                   extras: Mapping[date, Iterable[time]], tz_name: str, first_day: date,
                   days: int) -> Iterator[datetime]:
    """Every planned start (UTC) from ``first_day`` for ``days`` days, exceptions applied."""
    tz = ZoneInfo(tz_name)
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        if day in days_off:
            continue
        starts = set(times.get(day.weekday(), ())) | set(extras.get(day, ()))
        for at in sorted(starts):
            yield local_start(day, at, tz)
