"""Editing an experience keeps its future slots in step: capacity, and archiving."""

from app import clock
from bookings.models import Slot
from tests import factories as f


def _future_slots(db, offering):
    return db.session.scalars(db.select(Slot).where(Slot.offering_id == offering.id,
                                                    Slot.starts_at > clock.now())).all()


def test_capacity_change_reaches_future_slots_but_never_below_seats_taken(client, db):
    offering = f.create_offering(capacity=4)
    f.create_schedule(offering, {d: ["10:00"] for d in range(7)}, now=clock.now())
    slots = sorted(_future_slots(db, offering), key=lambda s: s.starts_at)
    busy = slots[-1]
    f.create_booking(busy, party_size=3)
    owner = offering.store.business.owner
    response = client.patch(f"/api/v1/offerings/{offering.id}", json={"capacity": 2}, headers=f.token_for(owner))
    assert response.status_code == 200
    db.session.expire_all()
    capacities = {slot.id: slot.capacity for slot in _future_slots(db, offering)}
    assert capacities[busy.id] == 4  # three seats are taken: the slot keeps room for them
    assert {c for i, c in capacities.items() if i != busy.id} == {2}


def test_archiving_removes_unbooked_future_slots_and_keeps_booked_ones(client, db):
    offering = f.create_offering(capacity=4)
    f.create_schedule(offering, {d: ["10:00"] for d in range(7)}, now=clock.now())
    booked = sorted(_future_slots(db, offering), key=lambda s: s.starts_at)[0]
    f.create_booking(booked)
    owner = offering.store.business.owner
    assert client.delete(f"/api/v1/offerings/{offering.id}", headers=f.token_for(owner)).status_code == 204
    db.session.expire_all()
    left = _future_slots(db, offering)
    assert [slot.id for slot in left] == [booked.id]


def test_the_pages_archive_and_restore_reach_the_slots_too(auth, db):
    offering = f.create_offering(capacity=4)
    f.create_schedule(offering, {d: ["10:00"] for d in range(7)}, now=clock.now())
    planned = len(_future_slots(db, offering))
    auth.login(offering.store.business.owner.email)
    assert auth.post(f"/merchant/experiences/{offering.id}/archive").status_code == 302
    db.session.expire_all()
    assert _future_slots(db, offering) == []
    assert auth.post(f"/merchant/experiences/{offering.id}/restore").status_code == 302
    db.session.expire_all()
    assert len(_future_slots(db, offering)) == planned
