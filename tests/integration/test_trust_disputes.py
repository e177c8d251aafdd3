"""Disputes and the compensation ledger on PostGIS: the state table, the 7-day window, reasons, the store's
48-hour answer, the operator's decision, the sweep (also from two connections at once), the ledger's balances
against sums, and the figures Trust II counts.

Services take ``now``; NOW is Monday 10 March 2031, 08:00 in Shanghai. Window tests also run at instants
around midnight and DST with the clock fixture.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import delete, func, select

from app.auth.models import Role, User
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db as _db
from app.merchants.models import Business
from bookings import services as bookings
from bookings.errors import InvalidTransition
from bookings.models import Booking, BookingEvent, Notification, OfflinePayment, OutboxEmail
from tests import factories as f
from trust import score, services
from trust.models import CompensationEntry, Dispute, DisputeEvent, DisputePhoto, Party
from trust.models_admin import AdminAuditEntry
from trust.services import integrity
from trust.states import ALLOWED, OPEN, DisputeStatus, assert_transition, can_transition

NOW = datetime(2031, 3, 10, 0, 0, tzinfo=UTC)  # Mon 10 Mar 2031, 08:00 Asia/Shanghai
D = DisputeStatus
PAIRS = list(itertools.product(DisputeStatus, repeat=2))
_apart = itertools.count()  # seconds between slots of one experience, which must start at different instants


@pytest.fixture
def shop(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    owner = f.create_merchant(email="owner@shop.test")
    store = f.create_store(f.create_business(owner), name="Clay Corner")
    offering = f.create_offering(store, title="Pottery", capacity=6, price_amount=Decimal("88.00"), duration_min=60)
    other_owner = f.create_merchant()
    other_store = f.create_store(f.create_business(other_owner))
    return SimpleNamespace(owner=owner, store=store, offering=offering, other_owner=other_owner,
                           staff=f.add_staff(store, f.create_user(Role.STAFF)),
                           other_staff=f.add_staff(other_store, f.create_user(Role.STAFF)),
                           resident=f.create_user(email="ann@resident.test"), other=f.create_user(),
                           admin=f.create_user(Role.ADMIN))


def visit(shop, hours: float = -3, status: str = "checked_in", party: int = 2, now: datetime = NOW) -> Booking:
    """The resident's booking of a slot starting ``hours`` after ``now``."""
    starts = now + timedelta(hours=hours, seconds=next(_apart))
    return f.create_booking(f.create_slot(shop.offering, starts), shop.resident,
                            status=status, party_size=party)


def claim(**kw) -> dict:
    return {"reason": "not_as_described", "description": "The class was half as long as listed.", "asks": "apology",
            **kw}


def png() -> bytes:
    content = BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 30)).save(content, "PNG")
    return content.getvalue()


def open_on(shop, booking, now=NOW, **kw) -> Dispute:
    return services.open_dispute(shop.resident, booking.id, claim(**kw), [], now)


def events(dispute) -> list[tuple]:
    return [(e.actor_id, e.from_status, e.to_status) for e in _db.session.scalars(
        select(DisputeEvent).where(DisputeEvent.dispute_id == dispute.id).order_by(DisputeEvent.id))]


def inbox(user, kind="dispute") -> list[Notification]:
    return list(_db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                               Notification.kind == kind).order_by(Notification.id)))


# -- the state table ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_assert_transition_refuses_exactly_what_the_table_leaves_out(src, dst):
    allowed = dst in ALLOWED[src]
    assert can_transition(str(src), str(dst)) is allowed
    if allowed:
        assert_transition(src, dst)
    else:
        with pytest.raises(InvalidTransition) as excinfo:
            assert_transition(src, dst)
        assert excinfo.value.code == "invalid_transition" and excinfo.value.details == {"from": src, "to": dst}


def test_the_table_has_every_state_and_withdrawal_from_every_open_one():
    assert set(ALLOWED) == set(DisputeStatus)
    assert all(D.WITHDRAWN in ALLOWED[s] for s in OPEN)
    assert ALLOWED[D.CLOSED] == ALLOWED[D.WITHDRAWN] == frozenset()
    assert not can_transition("opened", "nonsense") and not can_transition("nonsense", "closed")


# -- opening ----------------------------------------------------------------------------------------------------

def test_a_resident_opens_a_dispute_with_photos_and_the_store_is_told(db, shop):
    booking = visit(shop)
    dispute = services.open_dispute(shop.resident, booking.id, claim(asks="refund", asked_amount="40.50"),
                                    [("a.png", png()), ("b.png", png())], NOW)
    assert (dispute.status, dispute.asked_amount, dispute.currency, dispute.store_id) == (
        "opened", Decimal("40.50"), "CNY", shop.store.id)
    assert dispute.respond_by == NOW + timedelta(hours=48)
    assert events(dispute) == [(shop.resident.id, None, "opened")]
    photos = db.session.scalars(select(DisputePhoto).where(DisputePhoto.dispute_id == dispute.id)).all()
    assert sorted((p.side, p.position) for p in photos) == [("resident", 0), ("resident", 1)]
    (notice,) = inbox(shop.owner)
    assert "Pottery" in notice.title and "Not as described" in notice.body
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)
                             .where(OutboxEmail.to_email == shop.owner.email)) == 1
    assert inbox(shop.resident) == []


def test_only_the_bookings_resident_may_open(db, shop):
    booking = visit(shop)
    with pytest.raises(NotFound):
        services.open_dispute(shop.other, booking.id, claim(), [], NOW)
    for insider in (shop.staff, shop.owner, shop.admin):
        with pytest.raises(PermissionDenied):
            services.open_dispute(insider, booking.id, claim(), [], NOW)
    with pytest.raises(NotFound):
        services.open_dispute(shop.other_staff, booking.id, claim(), [], NOW)


def test_one_dispute_per_booking(db, shop):
    booking = visit(shop)
    first = open_on(shop, booking)
    with pytest.raises(Conflict) as excinfo:
        open_on(shop, booking)
    assert excinfo.value.code == "already_disputed" and excinfo.value.details == {"dispute_id": first.id}


@pytest.mark.parametrize(("field", "value"), [
    ("reason", "bored"), ("reason", None), ("description", "short"), ("description", "x" * 2001),
    ("description", 42), ("asks", "money"), ("asked_amount", "-5"), ("asked_amount", "1.234"),
    ("asked_amount", "NaN"), ("asked_amount", "1e12"),
])
def test_bad_fields_are_named(db, shop, field, value):
    with pytest.raises(ValidationFailed) as excinfo:
        open_on(shop, visit(shop), **{field: value, **({"asks": "compensation"} if field == "asked_amount" else {})})
    assert field in excinfo.value.details


def test_a_refund_needs_an_amount_and_an_apology_none(db, shop):
    with pytest.raises(ValidationFailed) as excinfo:
        open_on(shop, visit(shop), asks="refund")
    assert "asked_amount" in excinfo.value.details
    with pytest.raises(ValidationFailed) as excinfo:
        open_on(shop, visit(shop), asks="apology", asked_amount="5")
    assert "asked_amount" in excinfo.value.details
    assert open_on(shop, visit(shop), asks="compensation").asked_amount is None


def test_at_most_four_photos_and_the_pipeline_refuses_a_pdf(db, shop):
    with pytest.raises(ValidationFailed) as excinfo:
        services.open_dispute(shop.resident, visit(shop).id, claim(), [("p.png", png())] * 5, NOW)
    assert "photos" in excinfo.value.details
    booking = visit(shop)
    with pytest.raises(ValidationFailed) as excinfo, db.session.begin_nested():  # the route rolls back, too
        services.open_dispute(shop.resident, booking.id, claim(), [("x.jpg", b"%PDF-1.4 not an image")], NOW)
    assert excinfo.value.code == "image_unreadable" and "x.jpg" in excinfo.value.message
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == 0


# -- the window -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["confirmed", "checked_in", "completed"])
def test_a_visit_can_be_disputed_from_its_start_until_seven_days_after_its_end(db, shop, status):
    booking = visit(shop, hours=2, status=status)
    start, end = booking.slot.starts_at, booking.slot.ends_at
    with pytest.raises(Conflict) as excinfo:
        open_on(shop, booking, now=start - timedelta(seconds=1))
    assert excinfo.value.code == "not_disputable"
    with pytest.raises(Conflict) as excinfo:
        open_on(shop, booking, now=end + timedelta(days=7, seconds=1))
    assert excinfo.value.code == "dispute_window_closed"
    assert excinfo.value.details["closed_at"] == (end + timedelta(days=7)).isoformat()
    assert open_on(shop, booking, now=end + timedelta(days=7)).status == "opened"


@pytest.mark.parametrize("status", ["pending", "cancelled_by_resident"])
def test_a_booking_nothing_happened_to_is_not_disputable(db, shop, status):
    with pytest.raises(Conflict) as excinfo:
        open_on(shop, visit(shop, hours=-30, status=status))
    assert excinfo.value.code == "not_disputable"


def test_a_merchant_cancellation_opens_seven_days_from_the_cancellation(db, shop, clock):
    clock.travel(NOW, tick=False)  # the cancellation's audit row is written at the app's clock
    booking = visit(shop, hours=24 * 10, status="confirmed")
    bookings.cancel(shop.owner, booking.id, "Kiln broke", NOW)
    dispute = open_on(shop, booking, now=NOW + timedelta(days=7), reason="merchant_cancelled_late")
    assert dispute.reason == "merchant_cancelled_late"
    other = visit(shop, hours=24 * 20, status="confirmed")
    bookings.cancel(shop.owner, other.id, "Kiln broke", NOW)
    with pytest.raises(Conflict) as excinfo:
        open_on(shop, other, now=NOW + timedelta(days=7, minutes=1))
    assert excinfo.value.code == "dispute_window_closed"


def test_a_no_show_mark_opens_the_window_when_it_is_made(db, shop):
    booking = visit(shop, hours=-30, status="confirmed")
    marked_at = NOW + timedelta(days=3)  # the store marks it days after the slot
    bookings.mark_no_show(shop.staff, booking.id, marked_at)
    db.session.execute(BookingEvent.__table__.update().where(BookingEvent.booking_id == booking.id)
                       .values(created_at=marked_at))
    assert open_on(shop, booking, now=marked_at + timedelta(days=6), reason="wrongly_marked_no_show").status == "opened"


@pytest.mark.parametrize("at", ["2031-03-10 23:59:30 Asia/Shanghai", "2031-03-11 00:00:30 Asia/Shanghai",
                                "2031-03-09 01:59:00 America/New_York", "2031-03-09 03:01:00 America/New_York",
                                "2031-12-31 23:58:00 Asia/Shanghai"])
def test_windows_hold_at_any_hour(db, shop, clock, at):
    from tests.conftest import parse_instant

    clock.travel(parse_instant(at), tick=False)
    now = clock.now()
    booking = visit(shop, hours=-1, now=now)
    dispute = open_on(shop, booking, now=now)
    assert dispute.respond_by - now == timedelta(hours=48)
    late = visit(shop, hours=-24 * 7 - 2, now=now)  # ended 7 days and an hour ago
    with pytest.raises(Conflict) as excinfo:
        open_on(shop, late, now=now)
    assert excinfo.value.code == "dispute_window_closed"
    services.answer_dispute(shop.owner, dispute.id, {"action": "accept", "offer": "none", "message": "Sorry!"}, [],
                            now + timedelta(hours=48))
    assert dispute.status == "closed"


# -- reasons --------------------------------------------------------------------------------------------------

def pay(shop, booking, amount: str) -> None:
    _db.session.add(OfflinePayment(booking_id=booking.id, amount=Decimal(amount), currency="CNY", method="cash",
                                   recorded_by_id=shop.staff.id))
    _db.session.flush()
    _db.session.expire(booking, ["payments"])


def test_charged_more_needs_a_recorded_payment_above_price_times_party(db, shop):
    booking = visit(shop, party=2)  # 2 x 88.00
    with pytest.raises(ValidationFailed) as excinfo:
        open_on(shop, booking, reason="charged_more_than_listed")
    assert excinfo.value.code == "not_overcharged"
    assert "(0.00 CNY)" in excinfo.value.details["reason"] and "(176.00 CNY)" in excinfo.value.details["reason"]
    pay(shop, booking, "176.00")
    with pytest.raises(ValidationFailed) as excinfo:
        open_on(shop, booking, reason="charged_more_than_listed")
    assert excinfo.value.code == "not_overcharged"
    pay(shop, booking, "20.00")
    assert open_on(shop, booking, reason="charged_more_than_listed").reason == "charged_more_than_listed"


def test_a_correction_counts_not_the_payment_it_replaced(db, shop):
    booking = visit(shop, party=1)
    pay(shop, booking, "120.00")
    first = booking.payments[0]
    _db.session.add(OfflinePayment(booking_id=booking.id, amount=Decimal("88.00"), currency="CNY", method="cash",
                                   recorded_by_id=shop.staff.id, supersedes_id=first.id))
    _db.session.flush()
    _db.session.expire(booking, ["payments"])
    with pytest.raises(ValidationFailed) as excinfo:
        open_on(shop, booking, reason="charged_more_than_listed")
    assert excinfo.value.code == "not_overcharged"


@pytest.mark.parametrize(("reason", "status"), [("wrongly_marked_no_show", "checked_in"),
                                                ("merchant_cancelled_late", "completed")])
def test_reasons_that_do_not_fit_what_happened(db, shop, reason, status):
    with pytest.raises(ValidationFailed) as excinfo:
        open_on(shop, visit(shop, status=status), reason=reason)
    assert excinfo.value.code == "reason_not_applicable" and "reason" in excinfo.value.details


# -- the store's answer -----------------------------------------------------------------------------------------

def test_accepting_with_a_refund_records_what_the_business_owes_until_the_resident_confirms(db, shop):
    dispute = open_on(shop, visit(shop), asks="refund", asked_amount="50")
    services.answer_dispute(shop.staff, dispute.id, {"action": "accept", "offer": "refund_at_store", "amount": "50",
                                                     "message": "Sorry, come by for the refund."}, [],
                            NOW + timedelta(hours=3))
    assert (dispute.status, dispute.merchant_offer, dispute.answered_by_id) == (
        "merchant_accepted", "refund_at_store", shop.staff.id)
    (entry,) = db.session.scalars(select(CompensationEntry).where(CompensationEntry.dispute_id == dispute.id)).all()
    assert (entry.debtor_kind, entry.debtor_id, entry.creditor_kind, entry.creditor_id, entry.amount,
            entry.status) == ("business", shop.store.business_id, "resident", shop.resident.id, Decimal("50.00"),
                              "owed")
    assert [n.title for n in inbox(shop.resident)] == ["The store accepted your dispute: Pottery"]
    assert services.balances_of(Party.RESIDENT, shop.resident.id)[0].owed_to == Decimal("50.00")
    services.confirm_received(shop.resident, dispute.id, NOW + timedelta(days=1))
    assert dispute.status == "closed" and entry.status == "settled"
    assert services.balances_of(Party.RESIDENT, shop.resident.id) == []
    assert events(dispute) == [(shop.resident.id, None, "opened"), (shop.staff.id, "opened", "merchant_accepted"),
                               (shop.resident.id, "merchant_accepted", "closed")]
    with pytest.raises(Conflict) as excinfo:
        services.confirm_received(shop.resident, dispute.id, NOW + timedelta(days=1))
    assert excinfo.value.code == "nothing_to_confirm"


def test_an_apology_closes_at_once(db, shop):
    dispute = open_on(shop, visit(shop))
    services.answer_dispute(shop.owner, dispute.id, {"action": "accept", "offer": "none", "message": "We apologise."},
                            [], NOW)
    assert dispute.status == "closed" and dispute.closed_at == NOW
    assert [e[2] for e in events(dispute)] == ["opened", "merchant_accepted", "closed"]


def test_contesting_sends_the_dispute_to_the_operator_with_the_stores_photos(db, shop):
    dispute = open_on(shop, visit(shop))
    services.answer_dispute(shop.owner, dispute.id, {"action": "contest", "message": "The class ran the full hour."},
                            [("evidence.png", png())], NOW + timedelta(hours=47))
    assert dispute.status == "escalated" and dispute.escalated_at == NOW + timedelta(hours=47)
    assert events(dispute)[1:] == [(shop.owner.id, "opened", "merchant_contested"), (None, "merchant_contested",
                                                                                     "escalated")]
    assert [p.side for p in db.session.scalars(select(DisputePhoto).where(DisputePhoto.dispute_id == dispute.id))] == [
        "merchant"]
    assert inbox(shop.resident)[-1].title == "The store contested your dispute: Pottery"


def test_who_may_answer(db, shop):
    dispute = open_on(shop, visit(shop))
    answer = {"action": "contest", "message": "The class ran the full hour."}
    for outsider in (shop.other, shop.other_owner, shop.other_staff):
        with pytest.raises(NotFound):
            services.answer_dispute(outsider, dispute.id, answer, [], NOW)
    for judge_or_claimant in (shop.admin, shop.resident):
        with pytest.raises(PermissionDenied):
            services.answer_dispute(judge_or_claimant, dispute.id, answer, [], NOW)
    assert dispute.status == "opened"


def test_the_answer_window_closes_after_48_hours_and_only_once(db, shop):
    dispute = open_on(shop, visit(shop))
    with pytest.raises(Conflict) as excinfo:
        services.answer_dispute(shop.owner, dispute.id, {"action": "accept", "offer": "none"}, [],
                                NOW + timedelta(hours=48, seconds=1))
    assert excinfo.value.code == "answer_window_closed"
    services.answer_dispute(shop.owner, dispute.id, {"action": "accept", "offer": "none"}, [], NOW)
    with pytest.raises(InvalidTransition):
        services.answer_dispute(shop.owner, dispute.id, {"action": "contest", "message": "Changed our mind."}, [], NOW)


@pytest.mark.parametrize(("answer", "field"), [
    ({"action": "shrug"}, "action"), ({"action": "contest"}, "message"),
    ({"action": "contest", "message": "short"}, "message"), ({"action": "accept", "offer": "cake"}, "offer"),
    ({"action": "accept", "offer": "voucher"}, "amount"),
    ({"action": "accept", "offer": "none", "amount": "3"}, "amount"),
    ({"action": "accept", "offer": "refund_at_store", "amount": "0"}, "amount"),
])
def test_bad_answers_are_named(db, shop, answer, field):
    dispute = open_on(shop, visit(shop))
    with pytest.raises(ValidationFailed) as excinfo:
        services.answer_dispute(shop.owner, dispute.id, answer, [], NOW)
    assert field in excinfo.value.details


# -- the resident -----------------------------------------------------------------------------------------------

def test_withdrawing_waives_what_was_owed(db, shop):
    dispute = open_on(shop, visit(shop))
    services.answer_dispute(shop.owner, dispute.id, {"action": "accept", "offer": "voucher", "amount": "30"}, [], NOW)
    with pytest.raises(PermissionDenied):
        services.withdraw_dispute(shop.owner, dispute.id, "", NOW)
    services.withdraw_dispute(shop.resident, dispute.id, "Sorted it out in person.", NOW + timedelta(hours=1))
    assert dispute.status == "withdrawn" and dispute.closed_at == NOW + timedelta(hours=1)
    assert db.session.scalar(select(CompensationEntry.status).where(CompensationEntry.dispute_id == dispute.id)) == (
        "waived")
    assert inbox(shop.owner)[-1].title == "Dispute withdrawn: Pottery"
    with pytest.raises(InvalidTransition):
        services.withdraw_dispute(shop.resident, dispute.id, "", NOW)


def test_the_resident_escalates_an_accepted_dispute_or_an_unanswered_one_after_the_deadline(db, shop):
    accepted = open_on(shop, visit(shop))
    services.answer_dispute(shop.owner, accepted.id, {"action": "accept", "offer": "refund_at_store",
                                                      "amount": "20"}, [], NOW)
    with pytest.raises(ValidationFailed):
        services.escalate_dispute(shop.resident, accepted.id, "no", NOW)
    services.escalate_dispute(shop.resident, accepted.id, "No refund after a week of asking.", NOW + timedelta(days=7))
    assert accepted.status == "escalated"
    unanswered = open_on(shop, visit(shop))
    with pytest.raises(InvalidTransition) as excinfo:
        services.escalate_dispute(shop.resident, unanswered.id, "They are ignoring me.", NOW + timedelta(hours=47))
    assert "respond_by" in excinfo.value.details
    services.escalate_dispute(shop.resident, unanswered.id, "They are ignoring me.", NOW + timedelta(hours=49))
    assert unanswered.status == "escalated"


# -- the operator -----------------------------------------------------------------------------------------------

def escalated(shop, **kw) -> Dispute:
    dispute = open_on(shop, visit(shop, **kw))
    services.answer_dispute(shop.owner, dispute.id, {"action": "contest", "message": "The class ran the full hour."},
                            [], NOW)
    return dispute


def test_upholding_with_compensation_is_advance_compensation_and_recovery(db, shop):
    dispute = escalated(shop)
    with pytest.raises(PermissionDenied):
        services.decide_dispute(shop.owner, dispute.id, {"outcome": "upheld", "note": "ok"}, NOW)
    assert services.escalated_disputes(shop.admin) == [dispute]
    services.decide_dispute(shop.admin, dispute.id, {"outcome": "upheld", "note": "Photos show a 30-minute class.",
                                                     "compensation": "60.00"}, NOW + timedelta(days=1))
    assert (dispute.status, dispute.decided_by_id, dispute.decision_note) == (
        "upheld", shop.admin.id, "Photos show a 30-minute class.")
    entries = db.session.scalars(select(CompensationEntry).where(CompensationEntry.dispute_id == dispute.id)
                                 .order_by(CompensationEntry.id)).all()
    assert [(e.debtor_kind, e.debtor_id, e.creditor_kind, e.creditor_id, e.reason, e.amount) for e in entries] == [
        ("platform", None, "resident", shop.resident.id, "advance_compensation", Decimal("60.00")),
        ("business", shop.store.business_id, "platform", None, "recovery", Decimal("60.00"))]
    (resident_balance,) = services.balances_of(Party.RESIDENT, shop.resident.id)
    (business_balance,) = services.balances_of(Party.BUSINESS, shop.store.business_id)
    (platform_balance,) = services.balances_of(Party.PLATFORM, None)
    assert (resident_balance.owed_to, resident_balance.owes) == (Decimal("60.00"), 0)
    assert (business_balance.owed_to, business_balance.owes) == (0, Decimal("60.00"))
    assert (platform_balance.owed_to, platform_balance.owes) == (Decimal("60.00"), Decimal("60.00"))
    assert inbox(shop.owner)[-1].title == inbox(shop.resident)[-1].title == "Dispute upheld: Pottery"
    services.confirm_received(shop.resident, dispute.id, NOW + timedelta(days=2))
    assert dispute.status == "closed"
    assert services.balances_of(Party.RESIDENT, shop.resident.id) == []
    assert services.balances_of(Party.BUSINESS, shop.store.business_id)[0].owes == Decimal("60.00")  # recovery


def test_rejecting_closes_at_once_and_upholding_without_money_too(db, shop):
    rejected, upheld = escalated(shop), escalated(shop)
    services.decide_dispute(shop.admin, rejected.id, {"outcome": "rejected", "note": "The store's photos convince."},
                            NOW)
    services.decide_dispute(shop.admin, upheld.id, {"outcome": "upheld", "note": "An apology is due."}, NOW)
    assert [e[2] for e in events(rejected)][-2:] == ["rejected", "closed"]
    assert [e[2] for e in events(upheld)][-2:] == ["upheld", "closed"]
    with pytest.raises(InvalidTransition):
        services.decide_dispute(shop.admin, rejected.id, {"outcome": "upheld", "note": "Changed my mind."}, NOW)


def test_only_an_escalated_dispute_is_decided(db, shop):
    dispute = open_on(shop, visit(shop))
    with pytest.raises(InvalidTransition):
        services.decide_dispute(shop.admin, dispute.id, {"outcome": "upheld", "note": "Too early."}, NOW)
    with pytest.raises(ValidationFailed) as excinfo:
        services.decide_dispute(shop.admin, dispute.id, {"outcome": "rejected", "note": "x", "compensation": "5"},
                                NOW)
    assert set(excinfo.value.details) == {"note", "compensation"}


# -- the sweep --------------------------------------------------------------------------------------------------

def test_the_sweep_escalates_unanswered_disputes_once(db, shop):
    due, answered, fresh = open_on(shop, visit(shop)), open_on(shop, visit(shop)), open_on(
        shop, visit(shop), now=NOW + timedelta(hours=10))
    services.answer_dispute(shop.owner, answered.id, {"action": "accept", "offer": "none"}, [], NOW)
    assert services.sweep_disputes(NOW + timedelta(hours=47)) == 0
    assert services.sweep_disputes(NOW + timedelta(hours=48)) == 1
    assert services.sweep_disputes(NOW + timedelta(hours=48)) == 0
    db.session.refresh(due)
    db.session.refresh(fresh)
    assert (due.status, fresh.status) == ("escalated", "opened")
    assert events(due)[-1] == (None, "opened", "escalated")
    assert inbox(shop.resident)[-1].title == "Your dispute went to Onsite: Pottery"
    assert inbox(shop.owner)[-1].title == "Dispute sent to Onsite: Pottery"


def test_the_periodic_job_and_the_command_run_the_dispute_sweep(db, shop, app):
    from app.jobs import JOBS

    open_on(shop, visit(shop))
    job = dict(JOBS)["sweep"]
    assert "disputes_escalated: 1" in job(NOW + timedelta(days=3))


@pytest.fixture
def due_disputes(app, clock):
    """Twenty disputes past their store's deadline, committed (threads cannot see a rolled-back test's rows)."""
    clock.travel(NOW, tick=False)
    with app.app_context():
        store = f.create_store(lng=-151.0, lat=-61.0, name="Dispute sweep race")
        offering = f.create_offering(store, capacity=50, duration_min=60)
        owner = store.business.owner
        residents = [f.create_user() for _ in range(20)]
        ids = []
        for resident in residents:
            booking = f.create_booking(f.create_slot(offering, NOW - timedelta(hours=3, seconds=len(ids))), resident,
                                       status="completed")
            ids.append(services.open_dispute(resident, booking.id, claim(), [], NOW).id)
        users = [u.id for u in residents] + [owner.id]
        emails = [u.email for u in residents] + [owner.email]
        business = store.business_id
        _db.session.commit()
    try:
        yield ids
    finally:
        with app.app_context():
            _db.session.execute(delete(CompensationEntry).where(CompensationEntry.dispute_id.in_(ids)))
            _db.session.execute(delete(Dispute).where(Dispute.id.in_(ids)))
            _db.session.execute(delete(Booking).where(Booking.resident_id.in_(users)))
            _db.session.execute(delete(Business).where(Business.id == business))
            _db.session.execute(delete(OutboxEmail).where(OutboxEmail.to_email.in_(emails)))
            _db.session.execute(delete(User).where(User.id.in_(users)))
            _db.session.commit()


def test_two_sweeps_at_once_escalate_each_dispute_once(app, due_disputes):
    started = threading.Barrier(2, timeout=10)

    def sweep():
        with app.app_context():  # its own session, on its own connection
            started.wait()
            count = services.sweep_disputes(NOW + timedelta(hours=49))
            _db.session.commit()
            return count

    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = [future.result(timeout=60) for future in [pool.submit(sweep), pool.submit(sweep)]]
    assert sum(counts) == 20, counts
    with app.app_context():
        assert services.sweep_disputes(NOW + timedelta(hours=50)) == 0
        escalations = _db.session.execute(
            select(DisputeEvent.dispute_id, func.count()).where(DisputeEvent.dispute_id.in_(due_disputes),
                                                                DisputeEvent.to_status == "escalated")
            .group_by(DisputeEvent.dispute_id)).all()
        assert sorted(escalations) == [(i, 1) for i in sorted(due_disputes)]
        assert set(_db.session.scalars(select(Dispute.status).where(Dispute.id.in_(due_disputes)))) == {"escalated"}
        _db.session.rollback()


# -- the ledger and the figures ---------------------------------------------------------------------------------

def test_balances_equal_sums_over_the_ledger(db, shop):
    amounts = ["10.00", "25.50", "7.25", "100.00"]
    disputes = [open_on(shop, visit(shop)) for _ in amounts]
    for dispute, amount in zip(disputes, amounts, strict=True):
        services.answer_dispute(shop.owner, dispute.id, {"action": "accept", "offer": "voucher", "amount": amount},
                                [], NOW)
    services.confirm_received(shop.resident, disputes[0].id, NOW)
    services.withdraw_dispute(shop.resident, disputes[1].id, "", NOW)
    owed = db.session.scalars(select(CompensationEntry).where(CompensationEntry.status == "owed")).all()
    expected = sum(e.amount for e in owed)
    assert expected == Decimal("107.25")
    (resident,) = services.balances_of(Party.RESIDENT, shop.resident.id)
    (business,) = services.balances_of(Party.BUSINESS, shop.store.business_id)
    assert resident.owed_to == business.owes == expected and resident.owes == business.owed_to == 0
    entries, balances = services.resident_ledger(shop.resident)
    assert len(entries) == 4 and balances == [resident]
    business_row, entries, balances = services.business_ledger(shop.owner, shop.store.business_id)
    assert len(entries) == 4 and balances == [business]
    with pytest.raises(PermissionDenied):
        services.business_ledger(shop.staff, shop.store.business_id)
    assert services.resident_ledger(shop.other) == ([], [])


def test_figures_for_the_integrity_score(db, shop):
    business = shop.store.business_id
    quick = open_on(shop, visit(shop))
    services.answer_dispute(shop.owner, quick.id, {"action": "accept", "offer": "none"}, [], NOW + timedelta(hours=2))
    slow = open_on(shop, visit(shop), reason="turned_away")
    services.answer_dispute(shop.owner, slow.id, {"action": "contest", "message": "We served them fully."}, [],
                            NOW + timedelta(hours=30))
    services.decide_dispute(shop.admin, slow.id, {"outcome": "upheld", "note": "Turned away."}, NOW + timedelta(days=2))
    no_show = visit(shop, hours=-5, status="no_show")
    wrongly = open_on(shop, no_show, reason="wrongly_marked_no_show")
    services.sweep_disputes(NOW + timedelta(hours=49))
    services.decide_dispute(shop.admin, wrongly.id, {"outcome": "upheld", "note": "Check-in photo at 10:02."},
                            NOW + timedelta(days=3))
    since, until = NOW - timedelta(days=1), NOW + timedelta(days=30)
    assert services.upheld_by_reason(business, since, until) == {"turned_away": 1, "wrongly_marked_no_show": 1}
    assert services.upheld_by_reason(business, since, NOW + timedelta(days=2, seconds=1)) == {"turned_away": 1}
    assert services.merchant_response_times(business, since, until) == [timedelta(hours=2), timedelta(hours=30)]
    assert services.overturned_no_shows(business, since, until) == 1
    assert services.overturned_no_shows(f.create_business().id, since, until) == 0


def test_the_operator_settles_or_waives_ledger_entries_with_an_audit_row(db, shop):
    dispute = escalated(shop)
    services.decide_dispute(shop.admin, dispute.id, {"outcome": "upheld", "note": "Photos show a short class.",
                                                     "compensation": "60.00"}, NOW + timedelta(days=1))
    advance, recovery = db.session.scalars(select(CompensationEntry).where(CompensationEntry.dispute_id == dispute.id)
                                           .order_by(CompensationEntry.id)).all()
    with pytest.raises(PermissionDenied):
        services.close_entry(shop.owner, recovery.id, "waive", "We never agreed.", NOW + timedelta(days=2))
    with pytest.raises(ValidationFailed) as excinfo:
        services.close_entry(shop.admin, recovery.id, "pay", "Paid by transfer.", NOW + timedelta(days=2))
    assert "action" in excinfo.value.details
    with pytest.raises(ValidationFailed):
        services.close_entry(shop.admin, recovery.id, "settle", "", NOW + timedelta(days=2))
    with pytest.raises(NotFound):
        services.close_entry(shop.admin, 2**31 - 1, "settle", "Paid by transfer.", NOW + timedelta(days=2))
    services.close_entry(shop.admin, recovery.id, "settle", "Paid by bank transfer.", NOW + timedelta(days=2))
    services.close_entry(shop.admin, advance.id, "waive", "Resident declined it.", NOW + timedelta(days=2))
    assert (recovery.status, recovery.settled_at, advance.status) == ("settled", NOW + timedelta(days=2), "waived")
    assert services.balances_of("business", shop.store.business_id) == []
    with pytest.raises(Conflict) as again:
        services.close_entry(shop.admin, recovery.id, "waive", "Oops, twice.", NOW + timedelta(days=3))
    assert again.value.code == "entry_not_owed"
    log = db.session.scalars(select(AdminAuditEntry).where(AdminAuditEntry.dispute_id == dispute.id)
                             .order_by(AdminAuditEntry.id)).all()
    assert [(a.action, a.actor_id, a.business_id, a.reason, a.details["entry_id"]) for a in log] == [
        ("ledger_settle", shop.admin.id, shop.store.business_id, "Paid by bank transfer.", recovery.id),
        ("ledger_waive", shop.admin.id, None, "Resident declined it.", advance.id)]


def test_an_accepted_dispute_can_be_escalated_for_14_days_after_the_answer(db, shop):
    accepted = open_on(shop, visit(shop))
    services.answer_dispute(shop.owner, accepted.id, {"action": "accept", "offer": "refund_at_store",
                                                      "amount": "20"}, [], NOW + timedelta(hours=3))
    until = NOW + timedelta(hours=3, days=14)
    assert services.escalate_by(accepted) == until
    assert "escalate" in services.actions_for(shop.resident, accepted, until)
    late = until + timedelta(seconds=1)
    assert "escalate" not in services.actions_for(shop.resident, accepted, late)
    with pytest.raises(Conflict) as excinfo:
        services.escalate_dispute(shop.resident, accepted.id, "They never gave the refund.", late)
    assert excinfo.value.code == "escalation_window_closed"
    assert excinfo.value.details == {"escalate_by": until.isoformat()}
    assert accepted.status == "merchant_accepted"
    services.escalate_dispute(shop.resident, accepted.id, "They never gave the refund.", until)
    assert accepted.status == "escalated" and services.escalate_by(accepted) is None


def decided_no_show(shop, outcome: str, note: str) -> Booking:
    """A no-show booking whose 'wrongly marked' dispute the operator decided with ``outcome``, refreshed."""
    no_show = visit(shop, hours=-5, status="no_show")
    wrongly = open_on(shop, no_show, reason="wrongly_marked_no_show")
    services.sweep_disputes(NOW + timedelta(hours=49))
    services.decide_dispute(shop.admin, wrongly.id, {"outcome": outcome, "note": note}, NOW + timedelta(days=3))
    _db.session.refresh(no_show)
    return no_show


def test_an_upheld_no_show_dispute_overturns_the_mark_on_the_booking(db, shop):
    no_show = decided_no_show(shop, "upheld", "Check-in photo at 10:02.")
    assert no_show.status == "completed"
    last = no_show.events[-1]
    assert (last.from_status, last.to_status, last.actor_id) == ("no_show", "completed", shop.admin.id)
    assert "Check-in photo at 10:02." in last.reason and last.data["overturned_no_show"] is True
    # the integrity score counts it once: a visit now, and an overturned mark in the no-show part
    counts = integrity.gather_counts([shop.store.business_id], NOW + timedelta(days=4))[shop.store.business_id]
    assert counts.upheld == {"wrongly_marked_no_show": 1} and counts.visits >= 1
    part = score.no_shows_part(counts)
    assert part.data["overturned_no_shows"] == 1 and part.data["share"] == pytest.approx(1 / counts.visits)


def test_a_rejected_no_show_dispute_leaves_the_mark(db, shop):
    assert decided_no_show(shop, "rejected", "No sign of them.").status == "no_show"


def test_only_an_admin_overturns_a_no_show_in_bookings(db, shop):
    no_show = visit(shop, hours=-5, status="no_show")
    with pytest.raises(PermissionDenied):
        bookings.overturn_no_show(no_show.id, shop.owner, NOW, "mine")
    done = visit(shop)
    with pytest.raises(InvalidTransition):
        bookings.overturn_no_show(done.id, shop.admin, NOW, "not a no-show")

def test_lists_for_each_side(db, shop):
    mine = open_on(shop, visit(shop))
    assert services.disputes_of_resident(shop.resident) == [mine]
    assert services.disputes_of_resident(shop.other) == []
    assert services.disputes_of_store(shop.staff, shop.store) == [mine]
    with pytest.raises(NotFound):
        services.disputes_of_store(shop.other_staff, shop.store)
    with pytest.raises(PermissionDenied):
        services.escalated_disputes(shop.owner)
    assert services.get_dispute(shop.admin, mine.id) is mine
    for stranger in (shop.other, shop.other_owner, shop.other_staff, None):
        with pytest.raises(NotFound):
            services.get_dispute(stranger, mine.id)


# -- the demo city ----------------------------------------------------------------------------------------------

@pytest.mark.demo_city
def test_the_demo_merchant_has_an_open_dispute_and_a_second_load_adds_none(db, app, tmp_path, monkeypatch):
    from app.demo import DEMO_BUSINESS_NAME, RESIDENT_EMAIL, load_demo_city

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    load_demo_city()
    studio = db.session.scalar(select(Business).where(Business.name == DEMO_BUSINESS_NAME))
    disputes = db.session.scalars(select(Dispute).join(Dispute.store).where(
        Dispute.store.has(business_id=studio.id)).order_by(Dispute.id)).all()
    assert [d.status for d in disputes] == ["opened", "closed"]
    waiting = disputes[0]
    assert waiting.resident.email == RESIDENT_EMAIL and waiting.respond_by > clock_now()
    assert services.disputes_of_store(studio.owner, waiting.store, open_only=True) == [waiting]
    load_demo_city()
    assert db.session.scalar(select(func.count()).select_from(Dispute)) == len(disputes)


def clock_now():
    from app import clock

    return clock.now()


def test_each_side_is_told_in_their_own_language_on_the_stores_clock(db, shop):
    shop.owner.locale = "zh_CN"
    db.session.flush()
    dispute = open_on(shop, visit(shop))
    (notice,) = inbox(shop.owner)
    # The deadline reads as a Chinese date on Shanghai's clock (the catalogue's words arrive with its merge).
    local = dispute.respond_by.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert f"{local.year}年{local.month}月{local.day}日" in notice.body and f"{local:%H:%M}" in notice.body
    services.answer_dispute(shop.owner, dispute.id, {"action": "accept", "offer": "none"}, [], NOW)
    (told,) = inbox(shop.resident)
    assert "年" not in told.body and "Pottery" in told.title  # the resident reads English


def test_flask_bookings_sweep_escalates_due_disputes(db, shop, app, clock):
    dispute = open_on(shop, visit(shop))
    clock.travel(NOW + timedelta(hours=49), tick=False)
    result = app.test_cli_runner().invoke(args=["bookings", "sweep"])
    assert result.exit_code == 0, result.output
    assert "disputes_escalated: 1" in result.output
    db.session.refresh(dispute)
    assert dispute.status == "escalated"


def test_admins_hear_of_each_escalation_by_the_sweep_or_the_resident(db, shop):
    admin = f.create_user(role=Role.ADMIN)
    retired = f.create_user(role=Role.ADMIN)
    retired.is_active_account = False
    _db.session.flush()
    open_on(shop, visit(shop))
    assert services.sweep_disputes(NOW + timedelta(hours=48)) == 1
    assert [n.title for n in inbox(admin)] == ["Dispute to decide: Pottery"]
    assert inbox(retired) == [] and all(n.title != "Dispute to decide: Pottery" for n in inbox(shop.owner))
    later = open_on(shop, visit(shop))
    services.escalate_dispute(shop.resident, later.id, "The store never answered me at all.",
                              NOW + timedelta(hours=49))
    assert [n.title for n in inbox(admin)] == ["Dispute to decide: Pottery"] * 2
