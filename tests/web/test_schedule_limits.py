"""A schedule cannot take the site down: what one save may plan is capped (422 naming the field), and
the largest allowed schedule saves, in batches PostgreSQL accepts."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bookings.models import Slot
from bookings.services.availability import MAX_EXCEPTIONS, MAX_PLANNED_SLOTS
from tests import factories as f

EVERY_HALF_HOUR = {"weekdays": list(range(7)), "from": "00:00", "to": "23:30", "minutes": 30}
PER_DAY = 47  # 00:00, 00:30 … 23:00: "to" is where the last slot may not start


@pytest.fixture
def owner_and_offering(db):
    offering = f.create_offering(capacity=4)
    return f.token_for(offering.store.business.owner), offering


def put(client, owner_and_offering, body):
    headers, offering = owner_and_offering
    return client.put(f"/api/v1/offerings/{offering.id}/schedule", json=body, headers=headers)


@pytest.mark.parametrize("weeks", [29, 52])
def test_a_schedule_planning_too_many_slots_is_refused_on_weeks_ahead(client, owner_and_offering, weeks):
    response = put(client, owner_and_offering, {"every": EVERY_HALF_HOUR, "weeks_ahead": weeks})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert f"{PER_DAY * 7 * weeks:,} slots" in error["details"]["weeks_ahead"]
    assert f"at most {MAX_PLANNED_SLOTS:,}" in error["details"]["weeks_ahead"]
    assert _slots(owner_and_offering) == 0


def test_thirty_thousand_exceptions_are_refused(client, owner_and_offering):
    extras = [{"date": "2031-01-01", "kind": "extra_slot", "time": f"{h:02d}:{m:02d}"}
              for h in range(24) for m in range(60)] * 21
    assert len(extras) > 30_000
    response = put(client, owner_and_offering, {"weekly": [], "exceptions": extras})
    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["exceptions"] == (
        f"at most {MAX_EXCEPTIONS} dated exceptions (days off and extra slots).")


def test_the_largest_allowed_schedule_saves_and_a_second_save_changes_nothing(client, owner_and_offering, clock):
    body = {"every": EVERY_HALF_HOUR, "weeks_ahead": 8, "min_notice_minutes": 0}
    assert PER_DAY * 7 * 8 <= MAX_PLANNED_SLOTS
    first = put(client, owner_and_offering, body)
    assert first.status_code == 200, first.get_json()
    created = first.get_json()["created"]
    # 8 weeks of half hours from today, less those of today already past
    zone = ZoneInfo(owner_and_offering[1].store.timezone)
    local = clock.now().astimezone(zone)
    passed_today = min((local.hour * 60 + local.minute) // 30 + 1, PER_DAY)
    assert created == PER_DAY * 7 * 8 - passed_today == _slots(owner_and_offering)
    again = put(client, owner_and_offering, body)
    assert again.get_json() == {"created": 0, "removed": 0, "kept_with_bookings": 0, "capacity_updated": 0}

    clock.advance(timedelta(days=1))  # the next day's save plans one more day of half hours
    assert put(client, owner_and_offering, body).get_json()["created"] == PER_DAY


def _slots(owner_and_offering) -> int:
    from app.extensions import db

    return db.session.scalar(select(func.count()).select_from(Slot).where(Slot.offering_id == owner_and_offering[1].id))
