"""The integrity score from real rows: count what happened at each merchant in the last 90 days, apply the
formula (trust/score.py), store the score and its ISO week's row, warn a merchant past the line.

Counting is set-based: one statement per kind of event for a whole batch of merchants, so 10,000 merchants
recompute in seconds (bench/integrity.py). ``recompute_due`` is safe from cron and from several hosts: one
run at a time holds a transaction-level advisory lock (the others return at once), and every write is an
upsert that never replaces a score with one counted earlier (``computed_at``), so the one-merchant recompute
after a dispute's decision and a batch can interleave in any order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert

from app.auth.models import Role, User
from app.conversations.models import Conversation
from app.errors import NotFound
from app.extensions import db
from app.i18n import in_locale_of
from app.merchants.models import Business, BusinessStatus, Store
from bookings.models import Booking, BookingEvent
from bookings.services import notify_account
from bookings.states import BookingStatus as B
from trust import score as formula
from trust.models import Dispute, DisputeEvent, Review, ReviewStatus
from trust.models_audits import Audit, AuditStatus
from trust.models_score import BusinessIntegrity, IntegrityWeek
from trust.states import DisputeStatus as D

__all__ = ["IntegrityLines", "IntegrityView", "integrity_history", "integrity_lines", "integrity_of",
           "integrity_score_of", "recommendable", "recompute_business", "recompute_due",
           "recompute_merchants"]

LOCK_KEY = 7_340_014  # pg advisory lock: one `flask trust recompute` at a time across hosts
WARN_EVERY = timedelta(days=7)
# Events committed a little after a run read the rows can carry an earlier timestamp: look back this much.
OVERLAP = timedelta(minutes=10)
REFRESH_AFTER = timedelta(hours=24)  # the window rolls: a merchant with no new event is recomputed daily
BATCH = 2000
RECENT_SLOTS = timedelta(days=14)
EDIT_WINDOW = timedelta(days=8)  # a review is editable for 7 days after it is written
VISITED = (B.CHECKED_IN, B.COMPLETED)


@dataclass(frozen=True)
class IntegrityLines:
    min_visits: int = formula.MIN_VISITS
    warn_below: int = formula.WARN_BELOW
    hide_below: int = formula.HIDE_BELOW


def integrity_lines() -> IntegrityLines:
    """The settings: INTEGRITY_MIN_VISITS, INTEGRITY_WARN_BELOW, INTEGRITY_HIDE_BELOW."""
    if not has_app_context():
        return IntegrityLines()
    config = current_app.config
    return IntegrityLines(int(config.get("INTEGRITY_MIN_VISITS", formula.MIN_VISITS)),
                          int(config.get("INTEGRITY_WARN_BELOW", formula.WARN_BELOW)),
                          int(config.get("INTEGRITY_HIDE_BELOW", formula.HIDE_BELOW)))


# -- counting ---------------------------------------------------------------------------------------------------

def _of(ids: list[int]):
    return Store.business_id.in_(ids) if len(ids) < 50 else Store.business_id == func.any(ids)


def gather_counts(ids: list[int], now: datetime,
                  categories: dict[str, dict[str, float]] | None = None) -> dict[int, formula.Counts]:
    """Each merchant's counts over [now - 90 days, now), a handful of statements for the whole batch."""
    since = now - timedelta(days=formula.WINDOW_DAYS)
    data: dict[int, dict[str, Any]] = {i: {"upheld": {}, "response_hours": [], "detail": {}} for i in ids}
    in_window = and_(Booking.starts_at >= since, Booking.starts_at < now)
    made = and_(Booking.created_at >= since, Booking.created_at < now)
    # An operator's cancellation (a suspension cancels the merchant's future bookings) is not the store's own.
    by_operator = exists().where(BookingEvent.booking_id == Booking.id,
                                 BookingEvent.to_status == B.CANCELLED_BY_MERCHANT,
                                 BookingEvent.actor_id == User.id, User.role == Role.ADMIN)
    for business_id, visits, booked, cancelled, rejected in db.session.execute(
            select(Store.business_id,
                   func.count().filter(in_window, Booking.status.in_(VISITED)),
                   func.count().filter(made),
                   func.count().filter(made, Booking.status == B.CANCELLED_BY_MERCHANT, ~by_operator),
                   func.count().filter(made, Booking.status == B.REJECTED))
            .select_from(Booking).join(Store, Store.id == Booking.store_id)
            .where(_of(ids), or_(in_window, made)).group_by(Store.business_id)):
        data[business_id].update(visits=visits, bookings=booked, cancelled_by_merchant=cancelled, rejected=rejected)

    for business_id, reason, n in db.session.execute(
            select(Store.business_id, Dispute.reason, func.count(func.distinct(Dispute.id)))
            .select_from(Dispute).join(Store, Store.id == Dispute.store_id)
            .join(DisputeEvent, and_(DisputeEvent.dispute_id == Dispute.id, DisputeEvent.to_status == D.UPHELD))
            .where(_of(ids), DisputeEvent.created_at >= since, DisputeEvent.created_at < now)
            .group_by(Store.business_id, Dispute.reason)):
        data[business_id]["upheld"][reason] = n

    answered = func.min(DisputeEvent.created_at).filter(
        DisputeEvent.from_status == D.OPENED, DisputeEvent.to_status.in_((D.MERCHANT_ACCEPTED, D.MERCHANT_CONTESTED)))
    left = func.bool_or(and_(DisputeEvent.from_status == D.OPENED, DisputeEvent.to_status == D.ESCALATED))
    for business_id, opened_at, status, respond_by, answered_at, escalated in db.session.execute(
            select(Store.business_id, Dispute.opened_at, Dispute.status, Dispute.respond_by, answered, left)
            .select_from(Dispute).join(Store, Store.id == Dispute.store_id)
            .outerjoin(DisputeEvent, DisputeEvent.dispute_id == Dispute.id)
            .where(_of(ids), Dispute.opened_at >= since, Dispute.opened_at < now)
            .group_by(Store.business_id, Dispute.id)):
        if answered_at is not None:
            data[business_id]["response_hours"].append(round((answered_at - opened_at).total_seconds() / 3600, 2))
        elif escalated or (status == D.OPENED and respond_by < now):
            data[business_id]["unanswered"] = data[business_id].get("unanswered", 0) + 1

    first_reply = and_(Conversation.first_response_at >= since, Conversation.first_response_at < now)
    waiting = Conversation.awaiting_since < now - timedelta(hours=formula.MESSAGE_ZERO_H)
    for business_id, seconds, is_waiting in db.session.execute(
            select(Store.business_id, Conversation.first_response_seconds, waiting)
            .select_from(Conversation).join(Store, Store.id == Conversation.store_id)
            .where(_of(ids), or_(first_reply, and_(Conversation.first_response_at.is_(None), waiting,
                                                   Conversation.awaiting_since >= since)))):
        if seconds is not None:
            data[business_id].setdefault("message_hours", []).append(round(seconds / 3600, 2))
        elif is_waiting:
            data[business_id]["messages_waiting"] = data[business_id].get("messages_waiting", 0) + 1

    published = and_(Review.status == ReviewStatus.PUBLISHED, Review.created_at >= since, Review.created_at < now)
    details = (func.avg(Review.rating_described), func.avg(Review.rating_service), func.avg(Review.rating_value))
    for business_id, n, described, service, value in db.session.execute(
            select(Store.business_id, func.count(), *details).select_from(Review)
            .join(Store, Store.id == Review.store_id).where(_of(ids), published).group_by(Store.business_id)):
        data[business_id]["reviews"] = n
        data[business_id]["detail"] = {"described": round(float(described), 3), "service": round(float(service), 3),
                                       "value": round(float(value), 3)}
    category_of = dict(db.session.execute(select(Business.id, Business.category).where(Business.id.in_(ids))).all()
                       if len(ids) < 50 else
                       db.session.execute(select(Business.id, Business.category)
                                          .where(Business.id == func.any(ids))).all())
    categories = category_details(now) if categories is None else categories

    strike_day = func.date(func.timezone("UTC", Review.created_at))
    for business_id, strikes in db.session.execute(
            select(Store.business_id, func.count(func.distinct(func.row(Review.store_id, strike_day))))
            .select_from(Review).join(Store, Store.id == Review.store_id)
            .where(_of(ids), Review.flag_reason.is_not(None), Review.status != ReviewStatus.PUBLISHED,
                   Review.created_at >= since, Review.created_at < now).group_by(Store.business_id)):
        data[business_id]["fraud_strikes"] = strikes

    decided = and_(Audit.decided_at >= since, Audit.decided_at <= now)  # one decided at this instant counts
    for business_id, audits, failed in db.session.execute(
            select(Audit.business_id, func.count(), func.count().filter(Audit.status == AuditStatus.FAILED))
            .where(Audit.business_id.in_(ids) if len(ids) < 50 else Audit.business_id == func.any(ids), decided,
                   Audit.status.in_((AuditStatus.PASSED, AuditStatus.FAILED)))
            .group_by(Audit.business_id)):
        data[business_id].update(audits=audits, failed_audits=failed)

    counts = {}
    for business_id, values in data.items():
        values["category_detail"] = categories.get(category_of.get(business_id), {})
        values["response_hours"] = tuple(sorted(values["response_hours"]))
        values["message_hours"] = tuple(sorted(values.get("message_hours", ())))
        counts[business_id] = formula.Counts.from_dict(values)
    return counts


def category_details(now: datetime) -> dict[str, dict[str, float]]:
    """Each business category's three detailed averages over the window (every merchant's published reviews)."""
    since = now - timedelta(days=formula.WINDOW_DAYS)
    rows = db.session.execute(
        select(Business.category, func.avg(Review.rating_described), func.avg(Review.rating_service),
               func.avg(Review.rating_value))
        .select_from(Review).join(Store, Store.id == Review.store_id)
        .join(Business, Business.id == Store.business_id)
        .where(Review.status == ReviewStatus.PUBLISHED, Review.created_at >= since, Review.created_at < now)
        .group_by(Business.category)).all()
    return {category: {"described": round(float(d), 3), "service": round(float(s), 3), "value": round(float(v), 3)}
            for category, d, s, v in rows}


# -- recomputing ------------------------------------------------------------------------------------------------

def _week_of(now: datetime) -> date:
    """The Monday (UTC) of ``now``'s ISO week."""
    day = now.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def recompute_merchants(ids: list[int], now: datetime, *, notify: bool = True) -> dict[int, formula.Integrity]:
    """Recompute and store these merchants' scores as of ``now`` (and this ISO week's history row); warn those
    past the line (at most once a week). Flushes, never commits."""
    lines = integrity_lines()
    results: dict[int, formula.Integrity] = {}
    categories = category_details(now) if ids else {}
    for start in range(0, len(ids), BATCH):
        batch = ids[start:start + BATCH]
        counts = gather_counts(batch, now, categories)
        rows, weeks = [], []
        week = _week_of(now)
        for business_id in batch:
            result = formula.compute(counts[business_id], lines.min_visits)
            results[business_id] = result
            parts = formula.parts_to_stored(result.parts)
            rows.append({"business_id": business_id, "score": result.score, "visits": result.visits, "parts": parts,
                         "counts": counts[business_id].as_dict(), "computed_at": now})
            weeks.append({"business_id": business_id, "week": week, "score": result.score, "parts": parts,
                          "computed_at": now})
        if not rows:
            continue
        stmt = insert(BusinessIntegrity)
        db.session.execute(stmt.on_conflict_do_update(
            index_elements=[BusinessIntegrity.business_id],
            set_={"score": stmt.excluded.score, "visits": stmt.excluded.visits, "parts": stmt.excluded.parts,
                  "counts": stmt.excluded.counts, "computed_at": stmt.excluded.computed_at},
            where=BusinessIntegrity.computed_at <= stmt.excluded.computed_at), rows)
        week_stmt = insert(IntegrityWeek)
        db.session.execute(week_stmt.on_conflict_do_update(
            index_elements=[IntegrityWeek.business_id, IntegrityWeek.week],
            set_={"score": week_stmt.excluded.score, "parts": week_stmt.excluded.parts,
                  "computed_at": week_stmt.excluded.computed_at},
            where=IntegrityWeek.computed_at <= week_stmt.excluded.computed_at), weeks)
        if notify:
            _warn([i for i in batch if formula.is_warned(results[i].score, lines.warn_below)], results, now)
    db.session.flush()
    return results


def recompute_business(business_id: int, now: datetime) -> formula.Integrity:
    """Recompute one merchant at once (after a dispute is decided, say), in the caller's transaction.

    :raises NotFound: when there is no such business.
    """
    if db.session.get(Business, business_id) is None:
        raise NotFound(_("No such business."))
    return recompute_merchants([business_id], now)[business_id]


def due_merchants(now: datetime, *, full: bool = False) -> list[int]:
    """Active merchants whose score may have moved: never computed, computed over a day ago (the window rolls),
    or with a booking, check-in, dispute event, review, decided audit or a thread's first reply since their last
    recompute."""
    bi = BusinessIntegrity
    base = (select(Business.id).outerjoin(bi, bi.business_id == Business.id)
            .where(Business.status == BusinessStatus.ACTIVE).order_by(Business.id))
    if full:
        return list(db.session.scalars(base))
    since = bi.computed_at - OVERLAP
    of_business = Store.business_id == Business.id
    changed = or_(
        bi.business_id.is_(None), bi.computed_at < now - REFRESH_AFTER,
        # A booking changes around its slot (booked, confirmed, checked in, cancelled, marked): looking at slots
        # from two weeks before the last run lets the (store, start) index skip the older history; the daily
        # refresh catches anything later.
        exists().where(Booking.store_id == Store.id, of_business, Booking.starts_at > since - RECENT_SLOTS,
                       Booking.updated_at > since),
        exists().where(DisputeEvent.dispute_id == Dispute.id, Dispute.store_id == Store.id, of_business,
                       DisputeEvent.created_at > since),
        exists().where(Review.store_id == Store.id, of_business, Review.created_at > since - EDIT_WINDOW,
                       or_(Review.created_at > since, Review.edited_at > since)),
        exists().where(Audit.business_id == Business.id, Audit.decided_at > since),
        exists().where(Conversation.store_id == Store.id, of_business, Conversation.first_response_at > since))
    return list(db.session.scalars(base.where(changed)))


def recompute_due(now: datetime, *, full: bool = False) -> int | None:
    """Recompute every merchant that is due (all active ones with ``full``); return how many, or None when
    another run holds the lock. The caller commits."""
    if not db.session.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}).scalar():
        return None
    ids = due_merchants(now, full=full)
    recompute_merchants(ids, now)
    return len(ids)


# -- warnings ---------------------------------------------------------------------------------------------------

def _warn(ids: list[int], results: dict[int, formula.Integrity], now: datetime) -> None:
    """Tell each merchant past the warning line why, in its owner's language, at most once in WARN_EVERY."""
    if not ids:
        return
    claimed = list(db.session.scalars(
        update(BusinessIntegrity)
        .where(BusinessIntegrity.business_id.in_(ids), BusinessIntegrity.computed_at == now,
               or_(BusinessIntegrity.warned_at.is_(None), BusinessIntegrity.warned_at <= now - WARN_EVERY))
        .values(warned_at=now).returning(BusinessIntegrity.business_id)
        .execution_options(synchronize_session=False)))
    if not claimed:
        return
    for business in db.session.scalars(select(Business).where(Business.id.in_(claimed)).order_by(Business.id)):
        result = results[business.id]
        weakest = sorted((p for p in result.parts if p.score < 100), key=lambda p: p.points - p.weight)[:3]
        with in_locale_of(business.owner):
            title = _("Your integrity score is %(score)s: %(name)s", score=result.score, name=business.name)
            lines = "\n".join(f"- {formula.label(p.key)}: {p.reason}" for p in weakest)
            body = _("The integrity score of %(name)s is %(score)s of 100. Below %(line)s your experiences leave "
                     "\"Best match\" in residents' searches. What weighs on it most over the last 90 days:",
                     name=business.name, score=result.score, line=integrity_lines().hide_below) + "\n" + lines
        notify_account(business.owner, "integrity_warning", title, body)


# -- reading ----------------------------------------------------------------------------------------------------

@dataclass
class IntegrityView:
    """What a page or the API shows: the score (None: "new"), the parts with their reasons, the lines."""

    business_id: int
    score: int | None
    visits: int
    computed_at: datetime | None
    parts: list[formula.Part] = field(default_factory=list)
    lines: IntegrityLines = field(default_factory=IntegrityLines)

    @property
    def is_new(self) -> bool:
        return self.score is None

    @property
    def level(self) -> str:
        if self.score is None:
            return "new"
        if formula.is_hidden(self.score, self.lines.hide_below):
            return "low"
        if formula.is_warned(self.score, self.lines.warn_below):
            return "warned"
        return "good"

    def as_json(self) -> dict[str, Any]:
        return {
            "business_id": self.business_id, "score": self.score, "status": "new" if self.is_new else "scored",
            "level": self.level, "visits": self.visits, "min_visits": self.lines.min_visits,
            "window_days": formula.WINDOW_DAYS,
            "computed_at": self.computed_at,
            "parts": [{"key": p.key, "label": formula.label(p.key), "weight": p.weight, "score": round(p.score, 1),
                       "points": round(p.points, 2), "reason": p.reason, "data": p.data} for p in self.parts],
        }


def integrity_of(business_id: int) -> IntegrityView:
    """The stored score of a merchant ("new" with no parts when it was never computed)."""
    row = db.session.get(BusinessIntegrity, business_id)
    lines = integrity_lines()
    if row is None:
        return IntegrityView(business_id, None, 0, None, [], lines)
    return IntegrityView(business_id, row.score, row.visits, row.computed_at, formula.parts_from_stored(row.parts),
                         lines)


def integrity_history(business_id: int, weeks: int = 26) -> list[dict[str, Any]]:
    """The score per ISO week, oldest first, each with what moved it since the week before (parts whose points
    changed by at least one, with their reasons then)."""
    rows = list(db.session.scalars(select(IntegrityWeek).where(IntegrityWeek.business_id == business_id)
                                   .order_by(IntegrityWeek.week.desc()).limit(weeks + 1)))[::-1]
    history, before = [], None
    for row in rows:
        parts = {p.key: p for p in formula.parts_from_stored(row.parts)}
        moves = []
        if before is not None:
            for key, part in parts.items():
                delta = part.points - (before[key].points if key in before else part.weight)
                if abs(delta) >= 1:
                    moves.append({"key": key, "label": formula.label(key), "delta": round(delta, 1),
                                  "reason": part.reason})
        history.append({"week": row.week, "score": row.score, "moves": moves})
        before = parts
    return history[-weeks:]


def integrity_score_of(business_id_column):
    """SQL: the merchant's stored score (NULL: new, or never computed), for ranking."""
    return (select(BusinessIntegrity.score).where(BusinessIntegrity.business_id == business_id_column)
            .scalar_subquery())


def recommendable(business_id_column, hide_below: int | None = None):
    """SQL: the merchant is not below the lower line (its experiences stay in "Best match")."""
    line = integrity_lines().hide_below if hide_below is None else hide_below
    return ~exists().where(BusinessIntegrity.business_id == business_id_column, BusinessIntegrity.score < line)

