"""Periodic work: `flask jobs run` and the sweep's rolling slot horizon, at a clock the tests set."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from app import jobs
from app.offerings.models import Offering
from bookings import services
from bookings.models import OutboxEmail, Schedule, Slot
from tests import factories as f

SET_UP = datetime(2031, 3, 3, 2, 0, tzinfo=UTC)  # Mon 3 Mar 2031, 10:00 in Shanghai
SHANGHAI = ZoneInfo("Asia/Shanghai")


def daily_offering(lng: float = 120.149, lat: float = 30.246, timezone: str = "Asia/Shanghai"):
    offering = f.create_offering(f.create_store(lng=lng, lat=lat, timezone=timezone), capacity=4)
    f.create_schedule(offering, {d: ["10:00", "15:00"] for d in range(7)}, weeks_ahead=2, min_notice_minutes=0,
                      now=SET_UP)
    return offering


def slot_days(db, offering, zone=SHANGHAI) -> set[date]:
    return {start.astimezone(zone).date() for start in db.session.scalars(
        select(Slot.starts_at).where(Slot.offering_id == offering.id))}


def test_a_schedule_set_a_month_ago_is_bookable_today_after_one_round_of_jobs(app, db, clock):
    offering = daily_offering()
    assert max(slot_days(db, offering)) == date(2031, 3, 16)  # two weeks from the day it was set
    clock.travel(SET_UP + timedelta(days=31), tick=False)  # Thu 3 Apr 2031, 10:00 in Shanghai

    offering_id = offering.id
    result = app.test_cli_runner().invoke(args=["jobs", "run", "--once"])  # each job ends its session

    assert result.exit_code == 0, result.output
    offering = db.session.get(Offering, offering_id)
    assert "sweep: " in result.output and "schedules_rolled: 1" in result.output
    assert "outbox: sent: " in result.output
    days = slot_days(db, offering)
    assert {date(2031, 4, 3) + timedelta(days=n) for n in range(14)} <= days
    today = services.list_slots(offering, clock.now(), clock.now() + timedelta(days=1, minutes=1))
    assert [s.starts_at.astimezone(SHANGHAI).strftime("%H:%M") for s in today] == ["15:00", "10:00"]


def test_the_sweep_rolls_only_the_schedules_whose_local_day_has_moved_on(db):
    shanghai = daily_offering()  # set on Monday 3 March, 10:00 in Shanghai
    new_york = daily_offering(lng=-73.98, lat=40.75, timezone="America/New_York")  # Sunday 2 March, 21:00 there
    assert services.sweep(SET_UP)["schedules_rolled"] == 0  # both synced today, in their own zones

    # 05:00 UTC: Monday has begun in New York; in Shanghai it is still Monday, 13:00.
    counts = services.sweep(SET_UP + timedelta(hours=3))
    assert counts["schedules_rolled"] == 1 and counts["slots_created"] == 2
    assert max(slot_days(db, new_york, ZoneInfo("America/New_York"))) == date(2031, 3, 16)
    assert services.sweep(SET_UP + timedelta(hours=3, minutes=5))["schedules_rolled"] == 0
    # 17:00 UTC: Tuesday 01:00 in Shanghai, Monday noon in New York.
    assert services.sweep(SET_UP + timedelta(hours=15))["schedules_rolled"] == 1
    assert db.session.scalar(select(Schedule.synced_on).where(Schedule.offering_id == shanghai.id)) == date(2031, 3, 4)
    assert max(slot_days(db, shanghai)) == date(2031, 3, 17)


def test_a_failing_job_is_logged_and_the_others_still_run(app, db, monkeypatch, caplog):
    resident = f.create_user()
    db.session.add(OutboxEmail(to_email=resident.email, subject="Hello", body="Hi"))
    db.session.commit()  # as a request would have: the broken job's rollback must not take it away

    def broken(now):
        raise RuntimeError("the mail server is on fire")

    monkeypatch.setattr(jobs, "JOBS", [("broken", broken), *jobs.JOBS])
    results = jobs.run_jobs()

    assert results["broken"] == "failed: RuntimeError"
    assert results["outbox"] == "sent: 1, failed: 0"
    assert "job broken failed" in caplog.text
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.sent_at.is_(None))) == 0
