"""Scheduling mystery-shopper audits on PostGIS (trust/services/audits.py): n distinct merchants drawn by risk,
each given to an auditor who is not linked to it (owner, staff, its auditor within a year); none eligible is a
stable error and schedules nothing; each audit is logged; only admins schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import Role
from app.errors import PermissionDenied, ValidationFailed
from tests import factories as f
from trust.models_admin import AdminAction, AdminAuditEntry
from trust.models_audits import Audit, AuditStatus
from trust.services import audits


@pytest.fixture
def now(clock):
    return clock.now()


def _merchants(count: int):
    stores = []
    for i in range(count):
        business = f.create_business(f.create_merchant(email=f"owner{i}@audits.test"), name=f"Shop {i}")
        stores.append(f.create_store(business, name=f"Shop {i} street"))
    return stores


def test_schedule_picks_n_distinct_merchants_and_logs_each(db, now):
    _merchants(6)
    auditors = [f.create_user(Role.AUDITOR, email=f"a{i}@audits.test") for i in range(2)]
    admin = f.create_user(Role.ADMIN)

    made = audits.schedule(admin, 4, "2026Q4", now, seed=7)

    assert len(made) == 4
    assert len({audit.business_id for audit in made}) == 4
    assert {audit.status for audit in made} == {AuditStatus.SCHEDULED}
    assert sorted(audit.auditor_id for audit in made) == sorted([auditors[0].id] * 2 + [auditors[1].id] * 2)
    logged = db.session.scalars(select(AdminAuditEntry).where(AdminAuditEntry.action == AdminAction.AUDIT_SCHEDULE))
    assert sorted(entry.business_id for entry in logged) == sorted(audit.business_id for audit in made)
    # the same quarter again draws only merchants not audited this quarter
    again = audits.schedule(admin, 10, "2026Q4", now, seed=7)
    assert len(again) == 2
    assert not {audit.business_id for audit in again} & {audit.business_id for audit in made}


def test_same_seed_same_picks(db, now):
    _merchants(5)
    f.create_user(Role.AUDITOR, email="a@audits.test")
    admin = f.create_user(Role.ADMIN)
    first = [audit.business_id for audit in audits.schedule(admin, 2, "2026Q3", now, seed="x")]
    db.session.execute(Audit.__table__.delete())
    assert [audit.business_id for audit in audits.schedule(admin, 2, "2026Q3", now, seed="x")] == first


def test_an_owner_staff_member_or_recent_auditor_is_never_assigned(db, now):
    (store,) = _merchants(1)
    owner = store.business.owner
    owner.role = Role.AUDITOR  # linked as owner
    staff = f.add_staff(store, f.create_user(Role.AUDITOR, email="staff@audits.test"))
    recent = f.create_user(Role.AUDITOR, email="recent@audits.test")
    db.session.add(Audit(business_id=store.business_id, store_id=store.id, auditor_id=recent.id, quarter="2026Q1",
                         status=AuditStatus.PASSED, checklist={}, notes="", created_at=now - timedelta(days=200)))
    db.session.flush()
    admin = f.create_user(Role.ADMIN)
    before = db.session.scalar(select(func.count()).select_from(Audit))

    with pytest.raises(audits.NoEligibleAuditor) as refused:
        audits.schedule(admin, 1, "2026Q4", now)
    assert refused.value.code == "no_eligible_auditor"
    assert db.session.scalar(select(func.count()).select_from(Audit)) == before
    assert staff.role == Role.AUDITOR

    free = f.create_user(Role.AUDITOR, email="free@audits.test")
    (audit,) = audits.schedule(admin, 1, "2026Q4", now)
    assert audit.auditor_id == free.id


def test_an_auditor_of_the_merchant_over_a_year_ago_may_audit_again(db, now):
    (store,) = _merchants(1)
    old = f.create_user(Role.AUDITOR, email="old@audits.test")
    db.session.add(Audit(business_id=store.business_id, store_id=store.id, auditor_id=old.id, quarter="2025Q3",
                         status=AuditStatus.PASSED, checklist={}, notes="", created_at=now - timedelta(days=400)))
    db.session.flush()
    (audit,) = audits.schedule(f.create_user(Role.ADMIN), 1, "2026Q4", now)
    assert audit.auditor_id == old.id


@pytest.mark.parametrize("role", [Role.RESIDENT, Role.AUDITOR, Role.MERCHANT])
def test_only_admins_schedule(db, now, role):
    _merchants(1)
    f.create_user(Role.AUDITOR, email="a@audits.test")
    with pytest.raises(PermissionDenied):
        audits.schedule(f.create_user(role), 1, "2026Q4", now)
    with pytest.raises(PermissionDenied):
        audits.schedule(None, 1, "2026Q4", now)


@pytest.mark.parametrize("n, quarter, field", [(0, "2026Q4", "n"), (51, "2026Q4", "n"), ("3", "2026Q4", "n"),
                                               (True, "2026Q4", "n"), (1, "2026Q5", "quarter"), (1, None, "quarter")])
def test_bad_inputs_are_validation_errors(db, now, n, quarter, field):
    with pytest.raises(ValidationFailed) as refused:
        audits.schedule(f.create_user(Role.ADMIN), n, quarter, now)
    assert field in refused.value.details


def test_risks_are_read_from_the_integrity_tables(db, now):
    from trust.audit_sampling import weight
    from trust.models_score import BusinessIntegrity, IntegrityWeek

    store, calm = _merchants(2)
    db.session.add(BusinessIntegrity(business_id=store.business_id, score=40, visits=30, parts=[], counts={},
                                     computed_at=now))
    monday = (now - timedelta(days=35)).date()
    monday -= timedelta(days=monday.weekday())
    db.session.add(IntegrityWeek(business_id=store.business_id, week=monday, score=60, parts=[], computed_at=now))
    db.session.flush()

    risks = {risk.business_id: risk for risk in audits.merchant_risks(now)}
    assert (risks[store.business_id].score, risks[store.business_id].score_30_days_ago) == (40.0, 60.0)
    assert risks[calm.business_id].score is None
    assert weight(risks[store.business_id]) > weight(risks[calm.business_id])
    assert audits.merchant_risks(now, exclude={store.business_id, calm.business_id}) == []


ALL_YES = dict.fromkeys(audits.CHECKLIST, True)


def _visit(auditor, store, at, status="checked_in"):
    """The auditor's booking at the store in a slot starting ``at``, checked in (a visit)."""
    return f.create_booking(f.create_slot(f.create_offering(store), at), auditor, status=status)


@pytest.fixture
def scheduled(db, now):
    (store,) = _merchants(1)
    auditor = f.create_user(Role.AUDITOR, email="shopper@audits.test")
    (audit,) = audits.schedule(f.create_user(Role.ADMIN), 1, "2026Q4", now)
    return audit, auditor, store


def test_all_yes_passes_any_no_fails_and_it_is_filled_once(db, now, scheduled):
    audit, auditor, store = scheduled
    booking = _visit(auditor, store, now + timedelta(hours=1), status="completed")
    _visit(auditor, store, now + timedelta(hours=2))

    done = audits.record_checklist(auditor, audit.id, ALL_YES, "  Lovely  ", now, booking_id=booking.id)
    assert (done.status, done.notes, done.booking_id, done.decided_at) == (AuditStatus.PASSED, "Lovely", booking.id,
                                                                           now)
    with pytest.raises(audits.Conflict) as refused:
        audits.record_checklist(auditor, audit.id, ALL_YES, "", now)
    assert refused.value.code == "audit_decided"

    other = Audit(business_id=store.business_id, store_id=store.id, auditor_id=auditor.id, quarter="2026Q3",
                  status=AuditStatus.SCHEDULED, checklist={}, notes="", created_at=now)
    db.session.add(other)
    db.session.flush()
    failed = audits.record_checklist(auditor, other.id, {**ALL_YES, "hygiene": False}, None, now)
    assert failed.status == AuditStatus.FAILED and failed.checklist["hygiene"] is False
    assert failed.booking_id != booking.id  # without booking_id: the latest visit


@pytest.mark.parametrize("who", ["other_auditor", "admin", "owner", "anonymous"])
def test_only_the_assigned_auditor_may_fill_it(db, now, scheduled, who):
    audit, auditor, store = scheduled
    actor = {"other_auditor": lambda: f.create_user(Role.AUDITOR), "admin": lambda: f.create_user(Role.ADMIN),
             "owner": lambda: store.business.owner, "anonymous": lambda: None}[who]()
    with pytest.raises(audits.NotFound):
        audits.record_checklist(actor, audit.id, ALL_YES, "", now)
    assert audit.status == AuditStatus.SCHEDULED
    assert audits.audits_of(actor) == []
    assert audits.audits_of(auditor) == [audit]


def test_missing_answers_long_notes_and_someone_elses_booking_are_refused(db, now, scheduled):
    audit, auditor, store = scheduled
    _visit(auditor, store, now + timedelta(hours=1))
    stranger_booking = f.create_booking(f.create_slot(f.create_offering(store), now + timedelta(hours=1)))
    with pytest.raises(ValidationFailed) as refused:
        audits.record_checklist(auditor, audit.id, {"hygiene": "yes"}, "x" * 2001, now, booking_id=stranger_booking.id)
    assert set(refused.value.details) == {*audits.CHECKLIST, "notes", "booking_id"}
    with pytest.raises(audits.NotFound):
        audits.record_checklist(auditor, "1", ALL_YES, "", now)
    assert audit.status == AuditStatus.SCHEDULED


def test_a_failed_audit_within_90_days_counts_in_the_score(db, now, scheduled):
    from trust.models_score import BusinessIntegrity
    from trust.services.integrity import gather_counts

    audit, auditor, store = scheduled
    _visit(auditor, store, now + timedelta(hours=1))
    audits.record_checklist(auditor, audit.id, {**ALL_YES, "price_as_listed": False}, "", now)
    counts = gather_counts([store.business_id], now + timedelta(days=1))[store.business_id]
    assert (counts.audits, counts.failed_audits) == (1, 1)
    part = next(p for p in db.session.get(BusinessIntegrity, store.business_id).parts if p["key"] == "audits")
    assert part["score"] == 50
    later = gather_counts([store.business_id], now + timedelta(days=91))[store.business_id]
    assert (later.audits, later.failed_audits) == (0, 0)


def test_the_checklist_waits_for_a_visit_and_the_sweep_marks_it_visited(db, now, scheduled):
    audit, auditor, store = scheduled
    before = _visit(auditor, store, now - timedelta(days=1))  # before the audit was scheduled: not its visit
    f.create_booking(f.create_slot(f.create_offering(store), now + timedelta(hours=1)), auditor)  # booked only
    with pytest.raises(audits.Conflict) as refused:
        audits.record_checklist(auditor, audit.id, ALL_YES, "", now)
    assert refused.value.code == "audit_not_visited" and audit.status == AuditStatus.SCHEDULED
    assert audits.mark_visited(now + timedelta(hours=2)) == 0
    visit = _visit(auditor, store, now + timedelta(hours=1))
    assert audits.mark_visited(now) == 0  # the visit has not begun yet at that instant
    assert audits.mark_visited(now + timedelta(hours=2)) == 1
    db.session.refresh(audit)
    assert audit.status == AuditStatus.VISITED
    assert audits.visits_for(audit) == [visit]
    with pytest.raises(ValidationFailed) as wrong:
        audits.record_checklist(auditor, audit.id, ALL_YES, "", now, booking_id=before.id)
    assert set(wrong.value.details) == {"booking_id"}
    assert audits.record_checklist(auditor, audit.id, ALL_YES, "", now).booking_id == visit.id


def test_a_failed_audit_is_a_console_case_until_closed(db, now, scheduled):
    from trust.services.moderation import merchant_history, queues

    audit, auditor, store = scheduled
    admin = f.create_user(Role.ADMIN)
    assert queues(admin)["audits_due"].count == 1 and queues(admin)["failed_audits"].count == 0
    _visit(auditor, store, now + timedelta(hours=1))
    later = now + timedelta(hours=3)
    audits.record_checklist(auditor, audit.id, {**ALL_YES, "hygiene": False}, "Dusty cups", later)
    counts = queues(admin)
    assert (counts["audits_due"].count, counts["failed_audits"].count) == (0, 1)
    assert counts["failed_audits"].oldest == later
    assert [a.id for a, _name in audits.console_audits(admin)] == [audit.id]
    assert merchant_history(admin, store.business_id)["audits"] == [audit]
    with pytest.raises(PermissionDenied):
        audits.close_case(auditor, audit.id, "Spoke to the owner", later)
    with pytest.raises(ValidationFailed):
        audits.close_case(admin, audit.id, "", later)
    closed = audits.close_case(admin, audit.id, "Spoke to the owner", later)
    assert (closed.case_closed_at, closed.case_note) == (later, "Spoke to the owner")
    assert queues(admin)["failed_audits"].count == 0 and audits.console_audits(admin) == []
    with pytest.raises(audits.Conflict) as again:
        audits.close_case(admin, audit.id, "Twice", later)
    assert again.value.code == "audit_case_closed"
    with pytest.raises(audits.NotFound):
        audits.close_case(admin, 2_000_000_000, "No such", later)
    logged = db.session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.action == AdminAction.AUDIT_CLOSE))
    assert logged.business_id == store.business_id and logged.reason == "Spoke to the owner"
