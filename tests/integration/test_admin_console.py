"""The operator's console verbs on PostGIS (trust/services/moderation.py): suspension hides a merchant from
search, pages and booking and cancels its future bookings through the bookings service (seats back, residents
told why); reinstating lists it again and leaves those bookings cancelled; verify, warn, reported-review
decisions (a merchant strike counts in the score); every action writes an audit row; only admins may act."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from app.auth.models import Role
from app.discovery import services as discovery
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.offerings.services import get_offering
from bookings import services as bookings
from bookings.errors import SlotClosed
from bookings.models import Booking, Notification, Slot
from tests import factories as f
from trust import services
from trust.models import ReviewStatus
from trust.models_admin import AdminAuditEntry
from trust.models_score import BusinessIntegrity


@pytest.fixture
def now(clock):
    return clock.now()


@pytest.fixture
def world(db, now):
    owner = f.create_merchant(email="owner@console.test")
    business = f.create_business(owner, name="Kiln Street Studio")
    store = f.create_store(business, name="Kiln Street")
    offering = f.create_offering(store, title="Raku firing", capacity=6)
    resident = f.create_user(email="ann@console.test")
    future = f.create_booking(f.create_slot(offering, now + timedelta(days=2)), resident, party_size=2)
    past = f.create_booking(f.create_slot(offering, now - timedelta(days=2)), resident, status="completed")
    return SimpleNamespace(owner=owner, business=business, store=store, offering=offering, resident=resident,
                           future=future, past=past, admin=f.create_user(Role.ADMIN))


def found(offering, now) -> bool:
    page = discovery.nearby(discovery.NearbyQuery(point=f.WEST_LAKE, radius_m=3000, limit=200), now)
    return offering.id in [item.offering.id for item in page.items]


def actions(business) -> list[str]:
    return list(db.session.scalars(select(AdminAuditEntry.action).where(AdminAuditEntry.business_id == business.id)
                                   .order_by(AdminAuditEntry.id)))


def test_suspension_hides_everywhere_cancels_future_bookings_and_reinstating_lists_again(world, now):
    assert found(world.offering, now)
    slot_id = world.future.slot_id
    services.suspend_merchant(world.admin, world.business.id, "Charged residents twice the listed price", now)
    db.session.flush()

    assert world.business.status == "suspended" and world.business.suspended_by_id == world.admin.id
    assert not found(world.offering, now)
    with pytest.raises(NotFound):
        get_offering(world.resident, world.offering.id)
    with pytest.raises(SlotClosed) as refused:
        bookings.book(world.resident, f.create_slot(world.offering, now + timedelta(days=3)).id, 1, "", now)
    assert refused.value.code == "slot_closed"

    db.session.expire_all()
    future, past = db.session.get(Booking, world.future.id), db.session.get(Booking, world.past.id)
    assert future.status == "cancelled_by_merchant" and "twice the listed price" in future.cancel_reason
    assert past.status == "completed"  # the past is not rewritten
    assert db.session.get(Slot, slot_id).seats_taken == 0
    told = db.session.scalars(select(Notification.body).where(Notification.user_id == world.resident.id)).all()
    assert any("suspended" in body and "twice the listed price" in body for body in told)
    owner_told = db.session.scalars(select(Notification.title).where(Notification.user_id == world.owner.id)).all()
    assert any("Suspended" in title for title in owner_told)

    with pytest.raises(Conflict) as again:
        services.suspend_merchant(world.admin, world.business.id, "again", now)
    assert again.value.code == "already_suspended"

    services.reinstate_merchant(world.admin, world.business.id, "Refunded everyone, promised to stop", now)
    db.session.flush()
    assert found(world.offering, now)
    assert get_offering(world.resident, world.offering.id).id == world.offering.id
    assert db.session.get(Booking, world.future.id).status == "cancelled_by_merchant"  # stays cancelled
    with pytest.raises(Conflict) as twice:
        services.reinstate_merchant(world.admin, world.business.id, "again", now)
    assert twice.value.code == "not_suspended"

    entries = db.session.scalars(select(AdminAuditEntry).where(AdminAuditEntry.business_id == world.business.id)
                                 .order_by(AdminAuditEntry.id)).all()
    assert [e.action for e in entries] == ["suspend", "reinstate"]
    assert entries[0].details["cancelled_bookings"] == [world.future.id]
    assert entries[0].actor_id == world.admin.id and entries[0].reason.startswith("Charged")


def test_verify_and_warn_are_logged_and_told(world, now):
    services.verify_merchant(world.admin, world.business.id, "Checked the business licence in person", now)
    assert world.business.is_verified and world.business.verified_by_id == world.admin.id
    assert world.business.verification_note == "Checked the business licence in person"
    services.warn_merchant(world.admin, world.business.id, "Three late cancellations this week", now)
    told = db.session.scalars(select(Notification.body).where(Notification.user_id == world.owner.id)).all()
    assert any("Three late cancellations" in body for body in told)
    services.verify_merchant(world.admin, world.business.id, "Licence expired", now, verified=False)
    assert not world.business.is_verified and world.business.verified_at is None
    assert actions(world.business) == ["verify", "warn", "unverify"]
    history = services.merchant_history(world.admin, world.business.id)
    assert [w.reason for w in history["warnings"]] == ["Three late cancellations this week"]


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.MERCHANT, Role.STAFF])
def test_only_admins_act(world, now, role):
    someone = world.owner if role == Role.MERCHANT else f.create_user(role)
    for verb in (services.suspend_merchant, services.reinstate_merchant, services.warn_merchant):
        with pytest.raises(PermissionDenied):
            verb(someone, world.business.id, "because", now)
    with pytest.raises(PermissionDenied):
        services.verify_merchant(someone, world.business.id, "me", now)
    with pytest.raises(PermissionDenied):
        services.queues(someone)
    assert world.business.status == "active" and actions(world.business) == []


def test_a_reason_is_required_and_an_unknown_merchant_is_not_found(world, now):
    with pytest.raises(ValidationFailed) as bad:
        services.suspend_merchant(world.admin, world.business.id, " ", now)
    assert "reason" in bad.value.details
    with pytest.raises(NotFound):
        services.warn_merchant(world.admin, 10**9, "why", now)


def _reported_review(world, now):
    booking = f.create_booking(f.create_slot(world.offering, now - timedelta(hours=5)), world.resident,
                               status="checked_in")
    from trust.models import Review

    review = Review(booking_id=booking.id, offering_id=world.offering.id, store_id=world.store.id,
                    resident_id=world.resident.id, rating=5, rating_described=5, rating_service=5, rating_value=5,
                    body="Best place in town, everyone should go!", created_at=now - timedelta(hours=1))
    db.session.add(review)
    db.session.flush()
    return review, services.report_review(f.create_user(), review.id, "fake", "", now)


def test_a_merchant_strike_hides_the_review_and_counts_in_the_score(world, now):
    review, report = _reported_review(world, now)
    assert services.queues(world.admin)["reports"].count == 1
    services.decide_report(world.admin, report.id, "strike_merchant", "Written by the owner's cousin", now)
    assert review.status == ReviewStatus.HIDDEN and report.status == "upheld"
    integrity = db.session.get(BusinessIntegrity, world.business.id)
    assert integrity.counts["fraud_strikes"] == 1
    assert actions(world.business) == ["strike_merchant"]
    assert services.queues(world.admin)["reports"].count == 0
    with pytest.raises(Conflict) as again:
        services.decide_report(world.admin, report.id, "keep", "", now)
    assert again.value.code == "report_decided"


def test_keep_dismisses_and_leaves_the_review_shown(world, now):
    review, report = _reported_review(world, now)
    services.decide_report(world.admin, report.id, "keep", "", now)
    assert review.status == ReviewStatus.PUBLISHED and report.status == "dismissed"
    with pytest.raises(ValidationFailed):
        services.decide_report(world.admin, report.id, "burn", "", now)


def test_overview_counts_today_and_30_days(world, now):
    figures = services.overview(world.admin, now)
    assert figures["days30"]["bookings"] >= 2 and figures["days30"]["visits"] >= 1
    assert figures["today"]["bookings"] <= figures["days30"]["bookings"]


@pytest.mark.demo_city
def test_the_demo_city_has_a_verified_studio_warned_merchants_and_one_suspended(db):
    from app.demo import MERCHANT_EMAIL, load_demo_city
    from app.merchants.models import Business

    load_demo_city()
    rows = db.session.execute(select(AdminAuditEntry.action, Business.status)
                              .join(Business, Business.id == AdminAuditEntry.business_id)).all()
    assert sorted(action for action, _ in rows) == ["suspend", "verify", "warn", "warn", "warn"]
    assert db.session.scalar(select(func.count(Business.id)).where(Business.status == "suspended")) == 1
    studio = db.session.scalar(select(Business).where(Business.owner.has(email=MERCHANT_EMAIL)))
    assert studio.is_verified and studio.verification_note
    load_demo_city()  # again: nothing more
    assert db.session.scalar(select(func.count(AdminAuditEntry.id))) == 5
