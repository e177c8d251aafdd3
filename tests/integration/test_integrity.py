"""The integrity score from real rows (trust/services/integrity.py): counts, "new", incremental runs, the lock,
the one-merchant recompute, weekly history, warnings at most once a week, and "Best match" eligibility."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from app.errors import NotFound
from app.extensions import db as _db
from bookings.models import Notification, OutboxEmail
from tests import factories as f
from trust import score as formula
from trust.models import Dispute, DisputeEvent, Review
from trust.models_score import BusinessIntegrity, IntegrityWeek
from trust.services import integrity as svc


@pytest.fixture
def now(clock):
    instant = clock.now().replace(microsecond=0)
    clock.travel(instant, tick=False)
    return instant


@pytest.fixture
def shop(db):
    offering = f.create_offering(capacity=50)
    return offering


_apart = itertools.count()


def visit(offering, now, days_ago: float, status: str = "checked_in", **kw):
    """A booking in its own slot ``days_ago`` before ``now`` (slots a few seconds apart: one start each)."""
    slot = f.create_slot(offering, now - timedelta(days=days_ago, seconds=next(_apart) % 600))
    kw.setdefault("created_at", now - timedelta(days=days_ago + 1))
    kw.setdefault("updated_at", slot.starts_at)  # its last change: the visit itself
    return f.create_booking(slot, status=status, **kw)


def dispute(booking, now, reason: str, *, opened_days_ago: float = 2, answered_after_h: float | None = 5,
            outcome: str | None = "upheld", decided_days_ago: float = 1):
    opened = now - timedelta(days=opened_days_ago)
    row = Dispute(booking_id=booking.id, store_id=booking.store_id, resident_id=booking.resident_id, reason=reason,
                  description="It was not what the page said.", asks="apology", currency="CNY", status="opened",
                  opened_at=opened, respond_by=opened + timedelta(hours=48))
    _db.session.add(row)
    _db.session.flush()
    events = [DisputeEvent(dispute_id=row.id, from_status=None, to_status="opened", created_at=opened)]
    status = "opened"
    if answered_after_h is not None:
        events.append(DisputeEvent(dispute_id=row.id, from_status="opened", to_status="merchant_contested",
                                   created_at=opened + timedelta(hours=answered_after_h)))
        events.append(DisputeEvent(dispute_id=row.id, from_status="merchant_contested", to_status="escalated",
                                   created_at=opened + timedelta(hours=answered_after_h)))
        status = "escalated"
    if outcome:
        events.append(DisputeEvent(dispute_id=row.id, from_status=status, to_status=outcome,
                                   created_at=now - timedelta(days=decided_days_ago)))
        status = outcome
    row.status = status
    _db.session.add_all(events)
    _db.session.flush()
    return row


def review(booking, now, stars: int, days_ago: float = 1, **kw):
    row = Review(booking_id=booking.id, offering_id=booking.offering_id, store_id=booking.store_id,
                 resident_id=booking.resident_id, rating=stars, rating_described=stars, rating_service=stars,
                 rating_value=stars, body="A real visit, told.", created_at=now - timedelta(days=days_ago), **kw)
    _db.session.add(row)
    _db.session.flush()
    return row


def test_counts_from_rows(db, shop, now):
    business_id = shop.store.business_id
    visits = [visit(shop, now, d) for d in range(1, 21)]
    visit(shop, now, 100)  # outside the window
    visit(shop, now, 3, status="completed")
    visit(shop, now, 4, status="cancelled_by_merchant")
    visit(shop, now, 5, status="rejected")
    visit(shop, now, 6, status="no_show")
    visit(shop, now, 7, status="cancelled_by_resident")
    dispute(visits[0], now, "not_as_described")
    dispute(visits[1], now, "turned_away", answered_after_h=30)
    dispute(visits[2], now, "wrongly_marked_no_show")
    dispute(visits[3], now, "other", outcome="rejected")
    dispute(visits[4], now, "safety_or_hygiene", outcome=None, answered_after_h=None, opened_days_ago=3)  # unanswered
    dispute(visits[5], now, "other", decided_days_ago=95, opened_days_ago=96)  # upheld before the window
    review(visits[6], now, 5)
    review(visits[7], now, 3)
    review(visits[8], now, 1, status="flagged", flag_reason="burst")
    review(visits[9], now, 1, status="flagged", flag_reason="burst")  # same day: one strike

    counts = svc.gather_counts([business_id], now)[business_id]
    assert counts.visits == 21  # 20 checked in + 1 completed, in the window
    assert counts.bookings == 25  # made in the window: all but the one 100 days ago
    assert (counts.cancelled_by_merchant, counts.rejected) == (1, 1)
    assert dict(counts.upheld) == {"not_as_described": 1, "turned_away": 1, "wrongly_marked_no_show": 1}
    assert counts.response_hours == (5.0, 5.0, 5.0, 30.0)
    assert counts.unanswered == 1
    assert counts.reviews == 2 and counts.detail == {"described": 4.0, "service": 4.0, "value": 4.0}
    assert counts.category_detail["described"] == pytest.approx(
        float(_db.session.scalar(_avg_described(shop.store.business.category))), abs=1e-3)
    assert counts.fraud_strikes == 1


def _avg_described(category):
    from sqlalchemy import func

    from app.merchants.models import Business, Store
    return (select(func.avg(Review.rating_described)).join(Store, Store.id == Review.store_id)
            .join(Business, Business.id == Store.business_id)
            .where(Business.category == category, Review.status == "published"))


def test_new_merchant_then_scored_and_stored_with_its_week(db, shop, now):
    business_id = shop.store.business_id
    for d in range(1, 6):
        visit(shop, now, d)
    result = svc.recompute_business(business_id, now)
    assert result.score is None  # 5 visits < 10: "new"
    row = _db.session.get(BusinessIntegrity, business_id)
    assert row.score is None and row.visits == 5 and len(row.parts) == len(formula.WEIGHTS)
    view = svc.integrity_of(business_id)
    assert view.is_new and view.level == "new"
    assert [p.key for p in view.parts] == list(formula.WEIGHTS)

    for d in range(6, 16):
        visit(shop, now, d)
    result = svc.recompute_business(business_id, now + timedelta(seconds=1))
    assert result.score == 97
    _db.session.expire_all()
    assert _db.session.get(BusinessIntegrity, business_id).score == 97
    (week,) = _db.session.scalars(select(IntegrityWeek).where(IntegrityWeek.business_id == business_id)).all()
    assert week.score == 97 and week.week.weekday() == 0


def test_an_upheld_dispute_lowers_the_stored_score(db, shop, now):
    business_id = shop.store.business_id
    visits = [visit(shop, now, d % 80 + 1) for d in range(40)]
    before = svc.recompute_business(business_id, now).score
    dispute(visits[0], now, "charged_more_than_listed")
    dispute(visits[1], now, "charged_more_than_listed")
    after = svc.recompute_business(business_id, now + timedelta(seconds=1))
    assert after.score < before
    disputes = {p.key: p for p in after.parts}["disputes"]
    assert disputes.reason == "2 upheld disputes in 90 days (5.0% of visits)"


def test_an_older_count_never_replaces_a_newer_one(db, shop, now):
    business_id = shop.store.business_id
    svc.recompute_business(business_id, now)
    svc.recompute_merchants([business_id], now - timedelta(minutes=1))
    _db.session.expire_all()
    assert _db.session.get(BusinessIntegrity, business_id).computed_at == now


def test_unknown_business(db, now):
    with pytest.raises(NotFound):
        svc.recompute_business(2**31 - 1, now)


def test_incremental_runs_only_merchants_with_new_events(db, now):
    quiet, busy, fresh = (f.create_offering() for _ in range(3))
    visit(quiet, now, 2)
    visit(busy, now, 2)
    svc.recompute_merchants([quiet.store.business_id, busy.store.business_id], now)
    later = now + timedelta(hours=2)
    visit(busy, later, 0.01, created_at=later - timedelta(minutes=1))  # a new booking after the run
    due = set(svc.due_merchants(later))
    assert busy.store.business_id in due
    assert fresh.store.business_id in due  # never computed
    assert quiet.store.business_id not in due
    assert quiet.store.business_id in set(svc.due_merchants(now + timedelta(hours=25)))  # the window rolls
    assert quiet.store.business_id in set(svc.due_merchants(later, full=True))

    count = svc.recompute_due(later)
    assert count == len(due)
    assert busy.store.business_id not in set(svc.due_merchants(later + timedelta(minutes=30)))


def test_a_dispute_event_or_review_makes_a_merchant_due(db, shop, now):
    business_id = shop.store.business_id
    visits = [visit(shop, now, d) for d in (2, 3)]
    svc.recompute_business(business_id, now)
    later = now + timedelta(hours=1)
    assert business_id not in svc.due_merchants(later)
    dispute(visits[0], later, "other", opened_days_ago=0.01, decided_days_ago=0.001)
    assert business_id in svc.due_merchants(later)
    svc.recompute_business(business_id, later)
    latest = later + timedelta(hours=1)
    review(visits[1], latest, 4, days_ago=0.01)
    assert business_id in svc.due_merchants(latest)


def test_one_run_at_a_time_across_hosts(app, db, now):
    """Another host holding the run's advisory lock (a real second connection): this run does nothing."""
    with _db.engine.connect() as other:
        other.begin()
        assert other.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": svc.LOCK_KEY}).scalar()
        assert svc.recompute_due(now) is None
        other.rollback()
    assert svc.recompute_due(now) is not None


def test_warned_at_most_once_a_week_in_the_owners_language(db, shop, now):
    business = shop.store.business
    business.owner.locale = "zh_CN"
    visits = [visit(shop, now, d % 80 + 1) for d in range(20)]
    for booking in visits[:6]:
        dispute(booking, now, "safety_or_hygiene", answered_after_h=40)
    for booking in visits[6:9]:
        dispute(booking, now, "turned_away", answered_after_h=None, outcome="upheld")
    result = svc.recompute_business(business.id, now)
    assert result.score < formula.WARN_BELOW

    def notices():
        return _db.session.scalars(select(Notification).where(Notification.user_id == business.owner_id,
                                                              Notification.kind == "integrity_warning")).all()

    (notice,) = notices()
    assert str(result.score) in notice.title
    assert _db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_email == business.owner.email))
    svc.recompute_business(business.id, now + timedelta(days=3))
    assert len(notices()) == 1  # not again within the week
    svc.recompute_business(business.id, now + timedelta(days=7, seconds=1))
    assert len(notices()) == 2


def test_history_and_what_moved_it(db, shop, now):
    business_id = shop.store.business_id
    visits = [visit(shop, now, d % 80 + 1) for d in range(40)]
    svc.recompute_business(business_id, now - timedelta(days=14))
    svc.recompute_business(business_id, now - timedelta(days=7))
    dispute(visits[0], now, "not_as_described")
    dispute(visits[1], now, "not_as_described")
    svc.recompute_business(business_id, now)
    history = svc.integrity_history(business_id)
    assert len(history) == 3
    assert [h["week"].weekday() for h in history] == [0, 0, 0]
    assert history[-1]["score"] < history[-2]["score"]
    (move,) = [m for m in history[-1]["moves"] if m["key"] == "disputes"]
    assert move["delta"] < 0 and "upheld disputes" in move["reason"]


def test_below_the_lower_line_leaves_best_match(db, now):
    from app.merchants.models import Business

    low, good, new = (f.create_offering() for _ in range(3))
    for offering, score in ((low, 30), (good, 90)):
        _db.session.add(BusinessIntegrity(business_id=offering.store.business_id, score=score, visits=50, parts=[],
                                          counts={}, computed_at=now))
    _db.session.flush()
    ids = [o.store.business_id for o in (low, good, new)]
    kept = set(_db.session.scalars(select(Business.id).where(Business.id.in_(ids), svc.recommendable(Business.id))))
    assert kept == {good.store.business_id, new.store.business_id}
    scores = dict(_db.session.execute(select(Business.id, svc.integrity_score_of(Business.id))
                                      .where(Business.id.in_(ids))).all())
    assert scores == {low.store.business_id: 30, good.store.business_id: 90, new.store.business_id: None}


def test_the_periodic_job_recomputes_due_merchants(app, db, shop, now):
    from app.jobs import JOBS

    visit(shop, now, 2)
    assert dict(JOBS)["integrity"](now).startswith("recomputed: ")
    assert _db.session.get(BusinessIntegrity, shop.store.business_id).computed_at == now


def test_the_command(app, db, shop, now):
    business_id = shop.store.business_id
    for d in range(1, 13):
        visit(shop, now, d)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["trust", "recompute", "--business", str(business_id)])
    assert result.exit_code == 0, result.output
    assert f"Business {business_id}: 97 (12 visits in 90 days)." in result.output
    result = runner.invoke(args=["trust", "recompute", "--all"])
    assert result.exit_code == 0 and result.output.startswith("Recomputed "), result.output
    result = runner.invoke(args=["trust", "recompute", "--business", str(2**31 - 1)])
    assert result.exit_code == 1 and f"No business {2**31 - 1}." in result.output


def test_the_stores_replies_to_messages_count_and_make_it_due(db, shop, now):
    from app.conversations.models import Conversation

    store, business_id = shop.store, shop.store.business_id
    svc.recompute_business(business_id, now)
    assert svc.gather_counts([business_id], now)[business_id].message_hours == ()
    later = now + timedelta(hours=2)

    def thread(first_reply_ago_h=None, took_h=None, waiting_h=None):
        _db.session.add(Conversation(
            store_id=store.id, resident_id=f.create_user().id, created_at=later - timedelta(days=3),
            first_response_at=None if first_reply_ago_h is None else later - timedelta(hours=first_reply_ago_h),
            first_response_seconds=None if took_h is None else int(took_h * 3600),
            awaiting_since=None if waiting_h is None else later - timedelta(hours=waiting_h)))
        _db.session.flush()

    thread(first_reply_ago_h=1, took_h=0.5)
    thread(first_reply_ago_h=1, took_h=2.0)
    thread(waiting_h=30)  # never answered, waiting over a day
    thread(waiting_h=3)  # waiting, not yet late: not counted
    thread(first_reply_ago_h=24 * 100, took_h=50)  # answered before the window
    assert business_id in svc.due_merchants(later)
    counts = svc.gather_counts([business_id], later)[business_id]
    assert (counts.message_hours, counts.messages_waiting) == ((0.5, 2.0), 1)
    result = svc.recompute_business(business_id, later)
    part = next(p for p in result.parts if p.key == "response_time")
    assert part.data["threads"] == 3 and part.data["message_median_hours"] == 2.0
    assert "replies to messages in 2.0 hours (median)" in part.reason


def test_bookings_a_suspension_cancelled_are_not_the_stores_cancellations(db, shop, now):
    from app.auth.models import Role
    from bookings.services import cancel
    from trust.services.moderation import reinstate_merchant, suspend_merchant

    business_id, owner = shop.store.business_id, shop.store.business.owner
    own, *others = [f.create_booking(f.create_slot(shop, now + timedelta(days=d)), f.create_user())
                    for d in (1, 2, 3)]
    cancel(owner, own.id, "The kiln broke", now)
    admin = f.create_user(Role.ADMIN)
    suspend_merchant(admin, business_id, "Overcharging", now)
    for booking in others:
        _db.session.refresh(booking)
        assert booking.status == "cancelled_by_merchant"
    reinstate_merchant(admin, business_id, "Refunded", now)
    counts = svc.gather_counts([business_id], now + timedelta(minutes=1))[business_id]
    assert (counts.bookings, counts.cancelled_by_merchant) == (3, 1)
