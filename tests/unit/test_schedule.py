"""bookings.schedule: reading weekly availability, and turning it into UTC instants that keep
the store's wall-clock time across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.errors import ValidationFailed
from bookings.schedule import MAX_TIMES_PER_DAY, every, local_start, parse_hhmm, parse_weekly, planned_starts

PARIS, NEW_YORK, SHANGHAI = "Europe/Paris", "America/New_York", "Asia/Shanghai"


def _details(excinfo) -> dict:
    assert excinfo.value.code == "validation_failed"
    assert excinfo.value.http_status == 422
    return excinfo.value.details


def _hhmm(*values: str) -> tuple[time, ...]:
    return tuple(time.fromisoformat(v) for v in values)


# -- parse_hhmm / every --------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [("00:00", time(0)), ("09:05", time(9, 5)), ("23:59", time(23, 59)),
                                           (" 10:30 ", time(10, 30))])
def test_parse_hhmm_reads_wall_clock_times(text, expected):
    assert parse_hhmm(text, "at") == expected


@pytest.mark.parametrize("bad", ["24:00", "9:00", "10:60", "10:00:00", "10h00", "", "ten", None, 1000, 10.5,
                                 ["10:00"], "１０:００"])
def test_parse_hhmm_refuses_anything_else_naming_the_field(bad):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_hhmm(bad, "every.from")
    assert list(_details(excinfo)) == ["every.from"]


def test_every_counts_starts_that_begin_before_the_end():
    assert every(time(10), time(12), 30) == list(_hhmm("10:00", "10:30", "11:00", "11:30"))
    assert every(time(10), time(11, 1), 30) == list(_hhmm("10:00", "10:30", "11:00"))
    assert every(time(9), time(17), 720) == [time(9)]


@pytest.mark.parametrize("minutes", [0, 4, 721, -30])
def test_every_refuses_minutes_out_of_range(minutes):
    with pytest.raises(ValidationFailed) as excinfo:
        every(time(10), time(12), minutes)
    assert "every.minutes" in _details(excinfo)


@pytest.mark.parametrize("start,end", [(time(12), time(10)), (time(10), time(10))])
def test_every_refuses_an_empty_or_inverted_range(start, end):
    with pytest.raises(ValidationFailed) as excinfo:
        every(start, end, 30)
    assert "every.to" in _details(excinfo)


# -- parse_weekly ---------------------------------------------------------------------------------

def test_weekly_lists_become_sorted_unique_times_per_weekday():
    plan = parse_weekly({"weekly": [
        {"weekday": 1, "times": ["16:30", "10:00", "14:00"]},
        {"weekday": 6, "times": ["10:00"]},
        {"weekday": 1, "times": ["10:00", "18:00"]},  # the same day twice merges
    ]})
    assert plan.times == {1: _hhmm("10:00", "14:00", "16:30", "18:00"), 6: _hhmm("10:00")}


def test_tuesday_to_sunday_example_from_the_issue():
    plan = parse_weekly({"weekly": [{"weekday": d, "times": ["10:00", "14:00", "16:30"]} for d in range(1, 7)]})
    assert sorted(plan.times) == [1, 2, 3, 4, 5, 6]
    assert 0 not in plan.times  # Monday closed
    assert all(times == _hhmm("10:00", "14:00", "16:30") for times in plan.times.values())


def test_every_n_minutes_between_two_times_on_chosen_weekdays():
    plan = parse_weekly({"every": {"weekdays": [0, 2], "from": "10:00", "to": "18:00", "minutes": 30}})
    assert sorted(plan.times) == [0, 2]
    assert len(plan.times[0]) == 16
    assert plan.times[0][0] == time(10) and plan.times[0][-1] == time(17, 30)


def test_every_without_weekdays_means_every_day():
    plan = parse_weekly({"every": {"from": "09:00", "to": "10:00", "minutes": 20}})
    assert plan.times == {d: _hhmm("09:00", "09:20", "09:40") for d in range(7)}


def test_weekly_and_every_combine():
    plan = parse_weekly({"weekly": [{"weekday": 3, "times": ["08:15", "10:00"]}],
                         "every": {"weekdays": [3], "from": "10:00", "to": "11:00", "minutes": 30}})
    assert plan.times == {3: _hhmm("08:15", "10:00", "10:30")}


@pytest.mark.parametrize("data", [{}, {"weekly": []}, {"weekly": None}, {"every": None},
                                  {"weekly": [{"weekday": 2, "times": []}]}])
def test_nothing_planned_is_an_empty_plan(data):
    assert parse_weekly(data).times == {}


@pytest.mark.parametrize("weekday", [7, -1, True, "1", None, 1.0])
def test_a_bad_weekday_is_named_in_the_details(weekday):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_weekly({"weekly": [{"weekday": 0, "times": ["10:00"]}, {"weekday": weekday, "times": ["10:00"]}]})
    assert list(_details(excinfo)) == ["weekly[1].weekday"]


@pytest.mark.parametrize("bad_time", ["24:00", "7:30", "12:60", "noon", None, 930])
def test_a_bad_time_is_named_in_the_details(bad_time):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_weekly({"weekly": [{"weekday": 4, "times": ["10:00", bad_time]}]})
    assert list(_details(excinfo)) == ["weekly[0].times"]


@pytest.mark.parametrize("data,field", [
    ({"weekly": "Mon 10:00"}, "weekly"),
    ({"weekly": {"weekday": 1}}, "weekly"),
    ({"weekly": ["10:00"]}, "weekly[0]"),
    ({"weekly": [{"weekday": 1, "times": "10:00"}]}, "weekly[0].times"),
    ({"weekly": [{"weekday": 1}]}, "weekly[0].times"),
    ({"every": "every 30 minutes"}, "every"),
    ({"every": {"weekdays": [7], "from": "10:00", "to": "12:00", "minutes": 30}}, "every.weekdays"),
    ({"every": {"weekdays": "0,1", "from": "10:00", "to": "12:00", "minutes": 30}}, "every.weekdays"),
    ({"every": {"weekdays": [True], "from": "10:00", "to": "12:00", "minutes": 30}}, "every.weekdays"),
    ({"every": {"from": "10:00", "to": "12:00", "minutes": "30"}}, "every.minutes"),
    ({"every": {"from": "10:00", "to": "12:00", "minutes": True}}, "every.minutes"),
    ({"every": {"from": "10:00", "to": "12:00"}}, "every.minutes"),
    ({"every": {"from": "10:00", "to": "12:00", "minutes": 2}}, "every.minutes"),
    ({"every": {"from": "25:00", "to": "12:00", "minutes": 30}}, "every.from"),
    ({"every": {"to": "12:00", "minutes": 30}}, "every.from"),
    ({"every": {"from": "10:00", "to": "24:00", "minutes": 30}}, "every.to"),
    ({"every": {"from": "12:00", "to": "10:00", "minutes": 30}}, "every.to"),
])
def test_bad_shapes_and_ranges_are_named_in_the_details(data, field):
    with pytest.raises(ValidationFailed) as excinfo:
        parse_weekly(data)
    assert field in _details(excinfo)


def test_at_most_48_start_times_a_day():
    times = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30)]
    assert len(parse_weekly({"weekly": [{"weekday": 0, "times": times}]}).times[0]) == MAX_TIMES_PER_DAY == 48
    with pytest.raises(ValidationFailed) as excinfo:
        parse_weekly({"weekly": [{"weekday": 0, "times": [*times, "00:15"]}]})
    assert "weekly" in _details(excinfo)


def test_every_30_minutes_all_day_fits_but_every_25_does_not():
    assert len(parse_weekly({"every": {"from": "00:00", "to": "23:59", "minutes": 30}}).times[0]) == 48
    with pytest.raises(ValidationFailed) as excinfo:
        parse_weekly({"every": {"from": "00:00", "to": "23:59", "minutes": 25}})
    assert "weekly" in _details(excinfo)


def test_the_limit_counts_weekly_and_every_together_on_one_day():
    every_half_hour = {"weekdays": [5], "from": "00:00", "to": "23:59", "minutes": 30}
    assert len(parse_weekly({"every": every_half_hour, "weekly": [{"weekday": 5, "times": ["10:00"]}]})
               .times[5]) == 48  # 10:00 is one of them already
    with pytest.raises(ValidationFailed):
        parse_weekly({"every": every_half_hour, "weekly": [{"weekday": 5, "times": ["10:10"]}]})


# -- planned_starts: wall-clock time across DST ---------------------------------------------------

def _starts(tz: str, first: date, days: int, times=None, days_off=(), extras=None) -> list[datetime]:
    times = times if times is not None else {d: [time(10)] for d in range(7)}
    return list(planned_starts(times, set(days_off), extras or {}, tz, first, days))


@pytest.mark.parametrize("tz,before,after,utc_before,utc_after", [
    # Paris springs forward on 29 March 2026 and falls back on 25 October 2026.
    (PARIS, date(2026, 3, 28), date(2026, 3, 30), time(9), time(8)),
    (PARIS, date(2026, 10, 24), date(2026, 10, 26), time(8), time(9)),
    # New York springs forward on 8 March 2026 and falls back on 1 November 2026.
    (NEW_YORK, date(2026, 3, 7), date(2026, 3, 9), time(15), time(14)),
    (NEW_YORK, date(2026, 10, 31), date(2026, 11, 2), time(14), time(15)),
])
def test_a_ten_oclock_class_stays_at_ten_local_across_dst(tz, before, after, utc_before, utc_after):
    starts = _starts(tz, before, 3)
    assert len(starts) == 3
    assert all(s.tzinfo is not None and s.utcoffset() == timedelta(0) for s in starts)  # UTC instants
    local = [s.astimezone(ZoneInfo(tz)) for s in starts]
    assert [(d.date(), d.time()) for d in local] == [(before + timedelta(days=n), time(10)) for n in range(3)]
    assert starts[0].time() == utc_before
    assert starts[-1].date() == after and starts[-1].time() == utc_after
    # The instants are 23 or 25 hours apart across the change, never a plain 24.
    assert abs((starts[-1] - starts[0]) - timedelta(days=2)) == timedelta(hours=1)


def test_shanghai_has_no_dst_so_the_utc_instant_never_moves():
    starts = _starts(SHANGHAI, date(2026, 1, 1), 365)
    assert len(starts) == 365
    assert {s.time() for s in starts} == {time(2)}
    assert all(b - a == timedelta(days=1) for a, b in zip(starts, starts[1:], strict=False))


def test_every_day_of_a_year_in_paris_starts_at_ten_local():
    starts = _starts(PARIS, date(2026, 1, 1), 365)
    assert {s.astimezone(ZoneInfo(PARIS)).time() for s in starts} == {time(10)}
    assert {s.time() for s in starts} == {time(8), time(9)}


def test_only_the_planned_weekdays_get_starts():
    # 2 March 2026 is a Monday.
    starts = _starts(SHANGHAI, date(2026, 3, 2), 14, times={1: [time(10), time(14)], 6: [time(9, 30)]})
    local = [s.astimezone(ZoneInfo(SHANGHAI)) for s in starts]
    assert [(d.date().isoformat(), d.strftime("%H:%M")) for d in local] == [
        ("2026-03-03", "10:00"), ("2026-03-03", "14:00"), ("2026-03-08", "09:30"),
        ("2026-03-10", "10:00"), ("2026-03-10", "14:00"), ("2026-03-15", "09:30")]


def test_days_off_and_extra_slots():
    starts = _starts(SHANGHAI, date(2026, 3, 2), 7, times={d: [time(10)] for d in range(7)},
                     days_off={date(2026, 3, 4), date(2026, 3, 6)},
                     extras={date(2026, 3, 5): [time(19)], date(2026, 3, 7): [time(10)],
                             date(2026, 3, 20): [time(8)]})  # outside the range: ignored
    local = [s.astimezone(ZoneInfo(SHANGHAI)) for s in starts]
    assert [(d.day, d.hour) for d in local] == [(2, 10), (3, 10), (5, 10), (5, 19), (7, 10), (8, 10)]


def test_a_day_off_also_drops_that_days_extra_slots():
    starts = _starts(SHANGHAI, date(2026, 3, 2), 1, days_off={date(2026, 3, 2)},
                     extras={date(2026, 3, 2): [time(19)]})
    assert starts == []


def test_an_extra_slot_on_a_day_with_no_weekly_times():
    starts = _starts(PARIS, date(2026, 12, 21), 7, times={}, extras={date(2026, 12, 24): [time(19)]})
    assert starts == [datetime(2026, 12, 24, 18, 0, tzinfo=UTC)]


def test_a_start_in_the_spring_forward_gap_lands_on_the_time_after_it():
    # 02:30 does not exist in Paris on 29 March 2026 (02:00 jumps to 03:00): the class starts at 03:30 CEST.
    starts = _starts(PARIS, date(2026, 3, 28), 3, times={d: [time(2, 30)] for d in range(7)})
    local = [s.astimezone(ZoneInfo(PARIS)) for s in starts]
    assert [d.strftime("%d %H:%M %Z") for d in local] == ["28 02:30 CET", "29 03:30 CEST", "30 02:30 CEST"]
    assert starts[1] == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_the_new_york_gap_behaves_the_same():
    start = local_start(date(2026, 3, 8), time(2, 30), ZoneInfo(NEW_YORK))
    assert start == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    assert start.astimezone(ZoneInfo(NEW_YORK)).strftime("%H:%M %Z") == "03:30 EDT"


def test_an_ambiguous_fall_back_time_gives_one_start_not_two():
    # 02:30 happens twice in Paris on 25 October 2026; the class runs once, at the first 02:30.
    starts = _starts(PARIS, date(2026, 10, 25), 1, times={6: [time(2, 30)]})
    assert starts == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC)]
    assert starts[0].astimezone(ZoneInfo(PARIS)).strftime("%H:%M") == "02:30"


def test_planned_starts_are_in_order_and_unique():
    starts = _starts(NEW_YORK, date(2026, 3, 1), 21, times={d: [time(18), time(9), time(9)] for d in range(7)},
                     extras={date(2026, 3, 8): [time(9), time(12)]})
    assert starts == sorted(set(starts))
    assert len(starts) == 21 * 2 + 1
