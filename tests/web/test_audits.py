"""The auditor's pages (trust/routes/audits.py): the assigned auditor lists and fills the checklist (all yes
passes, a missing answer is marked on the form and nothing is lost), anyone else gets 404; the merchant's
booking page and API for the auditor's booking carry no trace of the audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from app.auth.models import Role
from app.extensions import db
from tests import factories as f
from trust.models_audits import AuditStatus
from trust.services import audits

YES = dict.fromkeys(audits.CHECKLIST, "yes")


@pytest.fixture
def world(app, db):
    now = clock.now()
    owner = f.create_merchant(email="owner@glaze.test")
    store = f.create_store(f.create_business(owner, name="Glaze Lab"), name="Glaze Lab street")
    auditor = f.create_user(Role.AUDITOR, email="mei@glaze.test")
    (audit,) = audits.schedule(f.create_user(Role.ADMIN), 1, "2026Q4", now)
    booking = f.create_booking(f.create_slot(f.create_offering(store), now + timedelta(hours=1)), auditor,
                               status="completed")  # the visit, after the audit was scheduled
    db.session.commit()
    return audit, auditor, owner, booking


def test_the_auditor_fills_the_checklist_and_it_passes(world, auth, client):
    audit, auditor, _, booking = world
    auth.login(auditor.email)
    assert f"/audits/{audit.id}" in client.get("/audits").get_data(as_text=True)

    missing = auth.post(f"/audits/{audit.id}", {**YES, "hygiene": "", "notes": "Kept my notes"})
    page = missing.get_data(as_text=True)
    assert missing.status_code == 422 and 'data-testid="error-hygiene"' in page and "Kept my notes" in page

    done = auth.post(f"/audits/{audit.id}", {**YES, "notes": "Fine", "booking_id": str(booking.id)})
    assert done.status_code == 302
    db.session.refresh(audit)
    assert (audit.status, audit.booking_id, audit.notes) == (AuditStatus.PASSED, booking.id, "Fine")
    again = auth.post(f"/audits/{audit.id}", {**YES, "hygiene": "no"}, follow_redirects=True)
    assert "filled already" in again.get_data(as_text=True)
    db.session.refresh(audit)
    assert audit.status == AuditStatus.PASSED


def test_someone_else_gets_not_found(world, auth, client):
    audit, _, owner, _ = world
    other = f.create_user(Role.AUDITOR, email="lin@glaze.test")
    db.session.commit()
    for who in (other, owner):
        auth.login(who.email)
        assert client.get(f"/audits/{audit.id}").status_code == 404
        assert auth.post(f"/audits/{audit.id}", YES).status_code == 404
        assert f"/audits/{audit.id}" not in client.get("/audits").get_data(as_text=True)
        auth.logout()
    db.session.refresh(audit)
    assert audit.status == AuditStatus.SCHEDULED


def test_the_merchant_sees_nothing_of_the_audit_on_the_booking(world, auth, client):
    audit, auditor, owner, booking = world
    auth.login(auditor.email)
    auth.post(f"/audits/{audit.id}", {**YES, "booking_id": str(booking.id)})
    auth.logout()
    auth.login(owner.email)
    page = client.get(f"/bookings/{booking.id}")
    listing = client.get(f"/merchant/stores/{booking.store_id}/bookings")
    api = client.get(f"/api/v1/bookings/{booking.id}", headers=f.token_for(owner))
    assert (page.status_code, listing.status_code, api.status_code) == (200, 200, 200)
    for text in (page.get_data(as_text=True), listing.get_data(as_text=True), api.get_data(as_text=True)):
        assert "audit" not in text.lower()


def test_a_passed_audit_shows_on_the_store_page_a_failed_one_does_not(world, auth, client):
    audit, auditor, _, booking = world
    store_page = f"/stores/{booking.store_id}"
    assert 'data-testid="audit-badge"' not in client.get(store_page).get_data(as_text=True)
    auth.login(auditor.email)
    auth.post(f"/audits/{audit.id}", {**YES, "hygiene": "no"})
    assert 'data-testid="audit-badge"' not in client.get(store_page).get_data(as_text=True)
    audit.status, audit.decided_at = AuditStatus.PASSED, clock.now()
    db.session.commit()
    page = client.get(store_page).get_data(as_text=True)
    assert 'data-testid="audit-badge"' in page and "Audited on" in page and ", passed" in page


def test_the_console_schedules_audits_and_lists_the_failed_ones(world, auth, client):
    audit, auditor, _, _ = world
    admin = f.create_user(Role.ADMIN, email="op@glaze.test")
    f.create_store(f.create_business(name="Second Shop"), name="Second street")
    db.session.commit()
    auth.login(auditor.email)
    auth.post(f"/audits/{audit.id}", {**YES, "hygiene": "no"})
    auth.logout()
    auth.login(admin.email)
    page = client.get("/admin/audits").get_data(as_text=True)
    assert 'data-status="failed"' in page and "Glaze Lab" in page and 'href="/admin/audits"' in page
    bad = auth.post("/admin/audits", {"n": "0", "quarter": "2026Q4"}, follow_redirects=True)
    assert "1 to 50" in bad.get_data(as_text=True)
    done = auth.post("/admin/audits", {"n": "3", "quarter": "2026Q4"}, follow_redirects=True)
    text = done.get_data(as_text=True)
    assert "1 audit scheduled." in text and 'data-status="scheduled"' in text and "Second Shop" in text


def test_the_checklist_waits_for_the_visit_and_the_console_closes_a_failed_case(world, auth, client):
    audit, auditor, _, booking = world
    booking.status = "confirmed"  # booked, not visited yet
    admin = f.create_user(Role.ADMIN, email="op@glaze.test")
    db.session.commit()
    auth.login(auditor.email)
    page = client.get(f"/audits/{audit.id}").get_data(as_text=True)
    assert 'data-testid="audit-not-visited"' in page and 'data-testid="audit-form"' not in page
    refused = auth.post(f"/audits/{audit.id}", YES, follow_redirects=True)
    assert "Visit first" in refused.get_data(as_text=True)
    booking.status = "checked_in"
    db.session.commit()
    assert 'data-testid="audit-form"' in client.get(f"/audits/{audit.id}").get_data(as_text=True)
    auth.post(f"/audits/{audit.id}", {**YES, "staff_courtesy": "no", "notes": "Rude at the till"})
    auth.logout()
    auth.login(admin.email)
    queues = client.get("/admin/queues").get_data(as_text=True)
    assert 'data-testid="queue-failed_audits">1<' in queues
    console = client.get("/admin/audits").get_data(as_text=True)
    assert 'data-testid="failed-audit-case"' in console and "Rude at the till" in console
    short = auth.post(f"/admin/audits/{audit.id}/close", {"note": "x"}, follow_redirects=True)
    assert 'data-testid="failed-audit-case"' in short.get_data(as_text=True)  # refused: still open
    closed = auth.post(f"/admin/audits/{audit.id}/close", {"note": "Owner retrained the staff"},
                       follow_redirects=True)
    text = closed.get_data(as_text=True)
    assert "Case closed." in text and 'data-testid="failed-audit-case"' not in text
    db.session.refresh(audit)
    assert audit.case_note == "Owner retrained the staff"


def test_checklist_photos_reach_the_console_only(world, auth, client):
    import io

    from PIL import Image

    audit, auditor, _, booking = world
    admin = f.create_user(Role.ADMIN, email="op@glaze.test")
    db.session.commit()

    def jpeg():
        out = io.BytesIO()
        Image.new("RGB", (320, 240), (200, 40, 40)).save(out, "JPEG")
        return out.getvalue()

    auth.login(auditor.email)
    too_many = auth.post(f"/audits/{audit.id}", {**YES, "hygiene": "no", "photos": [
        (io.BytesIO(jpeg()), f"cup{i}.jpg") for i in range(4)]})
    assert too_many.status_code == 422 and 'data-testid="error-photos"' in too_many.get_data(as_text=True)
    broken = auth.post(f"/audits/{audit.id}", {**YES, "hygiene": "no", "photos": [
        (io.BytesIO(b"not an image"), "cup.jpg")]})
    assert broken.status_code == 422 and "cup.jpg" in broken.get_data(as_text=True)
    done = auth.post(f"/audits/{audit.id}", {**YES, "hygiene": "no", "photos": [
        (io.BytesIO(jpeg()), "cup.jpg"), (io.BytesIO(jpeg()), "sink.jpg")]})
    assert done.status_code == 302
    db.session.refresh(audit)
    assert audit.status == AuditStatus.FAILED and len(audit.photos) == 2
    src = audit.photos[0].image.url(audit.photos[0].image.widths[0])
    assert src not in client.get(f"/stores/{booking.store_id}").get_data(as_text=True)
    auth.logout()
    auth.login(admin.email)
    console = client.get("/admin/audits").get_data(as_text=True)
    assert 'data-testid="audit-photos"' in console and src in console
