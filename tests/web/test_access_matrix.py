"""Who may change what: every write, page and API, for every kind of visitor.

Owners and admins succeed; anonymous visitors are sent to log in (pages) or get 401
(API); everyone else gets 403 or 404 and the row is the same afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import func, select

from app.auth.models import Role, User
from app.merchants.models import Business, HoursException, StaffInvitation, Store, StoreStaff
from app.offerings.models import Offering, OfferingStatus
from geo.points import LngLat
from tests import factories as f

ACTORS = ["anonymous", "resident", "owner", "other_owner", "staff", "other_staff", "admin"]
MANAGERS = {"owner", "admin"}


@dataclass
class World:
    """One owner's business, store and experiences, plus everyone else around them."""

    users: dict[str, User | None]
    business: Business
    store: Store
    offering: Offering
    archived: Offering
    exception: HoursException
    colleague: User  # staff at the store, the target of "remove staff"
    newcomer: User  # an account to be invited as staff
    invitation: StaffInvitation  # pending, the target of "withdraw"


@pytest.fixture
def world(db) -> World:
    owner = f.create_merchant(email="owner@test.onsite")
    business = f.create_business(owner, name="Owner's business", category="crafts")
    store = f.create_store(business, name="Owner's store")
    offering = f.create_offering(store, title="Pottery class")
    archived = f.create_offering(store, title="Old class", status=OfferingStatus.ARCHIVED)
    exception = HoursException(store_id=store.id, day=date(2031, 2, 1), is_closed=True, note="Holiday")
    db.session.add(exception)
    other_owner = f.create_merchant(email="other@test.onsite")
    other_store = f.create_store(f.create_business(other_owner, name="Other business"))
    db.session.flush()
    return World(
        users={
            "anonymous": None,
            "resident": f.create_user(email="resident@test.onsite"),
            "owner": owner,
            "other_owner": other_owner,
            # Staff by membership: a resident here; an account whose role says 'staff' (as accounts made
            # staff before invitations existed still do) at the other store.
            "staff": f.add_staff(store, f.create_user(email="staff@test.onsite")),
            "other_staff": f.add_staff(other_store, f.create_user(Role.STAFF, email="otherstaff@test.onsite")),
            "admin": f.create_user(Role.ADMIN, email="admin@test.onsite"),
        },
        business=business, store=store, offering=offering, archived=archived, exception=exception,
        colleague=f.add_staff(store, f.create_user(email="colleague@test.onsite")),
        newcomer=f.create_user(email="newcomer@test.onsite"),
        invitation=f.create_invitation(store, "invited@test.onsite"),
    )


class Actor:
    """Sends requests as one kind of visitor: pages through a logged-in session, API with a token."""

    def __init__(self, name: str, world: World, auth):
        self.name, self.auth, self.client = name, auth, auth.client
        user = world.users[name]
        self.headers = f.token_for(user) if user is not None else {}
        if user is not None:
            assert auth.login(user.email).status_code == 302

    def page(self, path: str, data: dict | None = None):
        return self.auth.post(path, data)

    def api(self, method: str, path: str, json: dict | None = None):
        return self.client.open(path, method=method, json=json, headers=self.headers)


@dataclass
class Case:
    id: str
    kind: str  # "page" or "api"
    send: Callable[[Actor, World], object]
    state: Callable[[World], object]  # read back from the database
    allowed: frozenset[str] = frozenset(MANAGERS)


def _read(db, statement):
    db.session.expire_all()
    return db.session.execute(statement).all()


def _business_state(db):
    return lambda w: _read(db, select(Business.name, Business.category, Business.phone)
                           .where(Business.id == w.business.id))


def _store_state(db):
    return lambda w: _read(db, select(Store.name, Store.address, func.ST_AsText(Store.location), Store.timezone)
                           .where(Store.id == w.store.id))


def _offering_state(db, which: str = "offering"):
    return lambda w: _read(db, select(Offering.title, Offering.price_amount, Offering.status)
                           .where(Offering.id == getattr(w, which).id))


def _cases(db) -> list[Case]:
    store_form = {"name": "Moved store", "address": "2 Hubin Road", "lat": "30.2600", "lng": "120.1600",
                  "timezone": "Asia/Shanghai", "geofence_m": "150"}
    offering_form = {"title": "New class", "category": "class_workshop", "description": "Clay",
                     "price_amount": "120", "currency": "CNY", "duration_min": "90", "capacity": "4",
                     "cancel_cutoff_hours": "12"}
    offering_json = {"title": "New class", "category": "class_workshop", "price_amount": "120.00"}
    # Working at a store takes nothing away: staff may start a business of their own.
    anyone_logged_in = frozenset(set(ACTORS) - {"anonymous"})

    def count(model, column, value_of):
        return lambda w: _read(db, select(func.count()).select_from(model).where(column == value_of(w)))

    new_businesses = lambda w: _read(db, select(func.count()).select_from(Business)  # noqa: E731
                                     .where(Business.name == "Brand new"))
    invitation_state = lambda w: _read(db, select(StaffInvitation.status)  # noqa: E731
                                       .where(StaffInvitation.id == w.invitation.id))
    return [
        Case("create-business-page", "page",
             lambda a, w: a.page("/merchant/businesses/new", {"name": "Brand new", "category": "food"}),
             new_businesses, anyone_logged_in),
        Case("create-business-api", "api",
             lambda a, w: a.api("POST", "/api/v1/businesses", {"name": "Brand new", "category": "food"}),
             new_businesses, anyone_logged_in),
        Case("edit-business-page", "page",
             lambda a, w: a.page(f"/merchant/businesses/{w.business.id}/edit",
                                 {"name": "Renamed", "category": "food", "phone": "0571-1234"}),
             _business_state(db)),
        Case("edit-business-api", "api",
             lambda a, w: a.api("PATCH", f"/api/v1/businesses/{w.business.id}", {"name": "Renamed"}),
             _business_state(db)),
        Case("create-store-page", "page",
             lambda a, w: a.page(f"/merchant/businesses/{w.business.id}/stores/new", store_form),
             count(Store, Store.business_id, lambda w: w.business.id)),
        Case("create-store-api", "api",
             lambda a, w: a.api("POST", "/api/v1/stores", {
                 "business_id": w.business.id, "name": "Second", "lat": 30.25, "lng": 120.16}),
             count(Store, Store.business_id, lambda w: w.business.id)),
        Case("edit-store-page", "page",
             lambda a, w: a.page(f"/merchant/stores/{w.store.id}/edit", store_form),
             _store_state(db)),
        Case("edit-store-api", "api",
             lambda a, w: a.api("PATCH", f"/api/v1/stores/{w.store.id}", {"name": "Moved", "lat": 30.3}),
             _store_state(db)),
        Case("hours-page", "page",
             lambda a, w: a.page(f"/merchant/stores/{w.store.id}/hours",
                                 {"d0_0_opens": "08:00", "d0_0_closes": "12:00"}),
             lambda w: sorted((h.weekday, h.opens_at, h.closes_at) for h in _fresh_store(db, w).hours)),
        Case("add-exception-page", "page",
             lambda a, w: a.page(f"/merchant/stores/{w.store.id}/exceptions",
                                 {"day": "2031-05-01", "is_closed": "y", "note": "Labour Day"}),
             count(HoursException, HoursException.store_id, lambda w: w.store.id)),
        Case("remove-exception-page", "page",
             lambda a, w: a.page(f"/merchant/stores/{w.store.id}/exceptions/{w.exception.id}/delete"),
             count(HoursException, HoursException.store_id, lambda w: w.store.id)),
        Case("invite-staff-page", "page",
             lambda a, w: a.page(f"/merchant/stores/{w.store.id}/staff", {"email": w.newcomer.email}),
             count(StaffInvitation, StaffInvitation.store_id, lambda w: w.store.id)),
        Case("invite-staff-api", "api",
             lambda a, w: a.api("POST", f"/api/v1/stores/{w.store.id}/invitations", {"email": w.newcomer.email}),
             count(StaffInvitation, StaffInvitation.store_id, lambda w: w.store.id)),
        Case("withdraw-invitation-page", "page",
             lambda a, w: a.page(f"/merchant/stores/{w.store.id}/invitations/{w.invitation.id}/revoke"),
             invitation_state),
        Case("withdraw-invitation-api", "api",
             lambda a, w: a.api("DELETE", f"/api/v1/stores/{w.store.id}/invitations/{w.invitation.id}"),
             invitation_state),
        Case("remove-staff-page", "page",
             lambda a, w: a.page(f"/merchant/stores/{w.store.id}/staff/{w.colleague.id}/delete"),
             count(StoreStaff, StoreStaff.store_id, lambda w: w.store.id)),
        Case("remove-staff-api", "api",
             lambda a, w: a.api("DELETE", f"/api/v1/stores/{w.store.id}/staff/{w.colleague.id}"),
             count(StoreStaff, StoreStaff.store_id, lambda w: w.store.id)),
        Case("create-offering-page", "page",
             lambda a, w: a.page(f"/merchant/stores/{w.store.id}/experiences/new", offering_form),
             count(Offering, Offering.store_id, lambda w: w.store.id)),
        Case("create-offering-api", "api",
             lambda a, w: a.api("POST", "/api/v1/offerings", {**offering_json, "store_id": w.store.id}),
             count(Offering, Offering.store_id, lambda w: w.store.id)),
        Case("edit-offering-page", "page",
             lambda a, w: a.page(f"/merchant/experiences/{w.offering.id}/edit",
                                 {**offering_form, "title": "Renamed class"}),
             _offering_state(db)),
        Case("edit-offering-api", "api",
             lambda a, w: a.api("PATCH", f"/api/v1/offerings/{w.offering.id}",
                                {"title": "Renamed class", "price_amount": "99.50"}),
             _offering_state(db)),
        Case("archive-offering-page", "page",
             lambda a, w: a.page(f"/merchant/experiences/{w.offering.id}/archive"),
             _offering_state(db)),
        Case("archive-offering-api", "api",
             lambda a, w: a.api("DELETE", f"/api/v1/offerings/{w.offering.id}"),
             _offering_state(db)),
        Case("restore-offering-page", "page",
             lambda a, w: a.page(f"/merchant/experiences/{w.archived.id}/restore"),
             _offering_state(db, "archived")),
        Case("restore-offering-api", "api",
             lambda a, w: a.api("PATCH", f"/api/v1/offerings/{w.archived.id}", {"status": "active"}),
             _offering_state(db, "archived")),
    ]


def _fresh_store(db, world: World) -> Store:
    db.session.expire_all()
    return db.session.get(Store, world.store.id)


CASE_IDS = [case.id for case in _cases(None)]


@pytest.mark.parametrize("actor_name", ACTORS)
@pytest.mark.parametrize("case_id", CASE_IDS)
def test_write_access(db, auth, world, case_id, actor_name):
    case = next(c for c in _cases(db) if c.id == case_id)
    actor = Actor(actor_name, world, auth)
    before = case.state(world)

    response = case.send(actor, world)
    after = case.state(world)

    if actor_name in case.allowed:
        if case.kind == "page":
            assert response.status_code == 302, response.get_data(as_text=True)[:2000]
            assert not response.headers["Location"].startswith("/auth/login")
        else:
            assert response.status_code in (200, 201, 204), response.json
        assert after != before, "the write succeeded but nothing changed"
        return

    assert after == before, f"{actor_name} changed the data with status {response.status_code}"
    if actor_name == "anonymous":
        if case.kind == "page":
            assert response.status_code == 302
            assert response.headers["Location"].startswith("/auth/login?next=")
        else:
            assert response.status_code == 401
            assert response.json["error"]["code"] == "unauthenticated"
    else:
        assert response.status_code in (403, 404)
        if case.kind == "api":
            assert response.json["error"]["code"] in ("forbidden", "not_found")
        else:
            assert "<html" in response.get_data(as_text=True)


def test_matrix_covers_every_state_changing_route(app):
    """A new write endpoint must join the matrix (or be listed here as exempt, with a reason)."""
    exempt = {
        "auth.login", "auth.register", "auth.logout",  # accounts: tests/web/test_auth.py
        "auth_api.register", "auth_api.create_token",
        # the invitee's own answer: tests/web/test_staff_invitations.py
        "merchants.answer_invitation", "merchants_api.accept_invitation", "merchants_api.decline_invitation",
        # the caller's own account only: tests/web/test_account_security.py
        "auth.account", "auth.logout_everywhere", "auth_api.logout_everywhere",
        # photos, a matrix of their own with every actor: tests/web/test_photos.py
        "media.upload_offering_photos", "media.upload_store_photos", "media.describe", "media.make_cover",
        "media.move", "media.delete", "media_api.upload_offering_photo", "media_api.upload_store_photo",
        "media_api.reorder_offering_photos", "media_api.reorder_store_photos", "media_api.update_photo",
        "media_api.delete_photo",
    }
    covered = {
        "merchants.new_business", "merchants_api.create_business", "merchants.edit_business",
        "merchants_api.update_business", "merchants.new_store", "merchants_api.create_store",
        "merchants.edit_store", "merchants_api.update_store", "merchants.store_hours",
        "merchants.add_exception", "merchants.delete_exception", "merchants.store_staff",
        "merchants.remove_staff", "merchants_api.invite_staff", "merchants_api.remove_staff",
        "merchants.revoke_invitation", "merchants_api.revoke_invitation", "offerings.new",
        "offerings_api.create_offering", "offerings.edit",
        "offerings_api.update_offering", "offerings.archive", "offerings_api.archive_offering",
        "offerings.restore",
    }
    writes = {rule.endpoint for rule in app.url_map.iter_rules()
              if rule.methods & {"POST", "PUT", "PATCH", "DELETE"}
              and rule.endpoint.split(".")[0] in {"auth", "auth_api", "merchants", "merchants_api",
                                                  "offerings", "offerings_api", "media", "media_api"}}
    assert writes - exempt - covered == set()
    assert covered <= writes


# -- seeing private data -------------------------------------------------------------

VIEWERS = {"owner", "admin", "staff"}


@pytest.mark.parametrize("actor_name", ACTORS)
def test_archived_offering_is_visible_to_its_store_only(db, auth, world, actor_name):
    actor = Actor(actor_name, world, auth)
    api = actor.api("GET", f"/api/v1/offerings/{world.archived.id}")
    page = actor.client.get(f"/experiences/{world.archived.id}")
    if actor_name in VIEWERS:
        assert api.status_code == 200
        assert api.json["status"] == "archived" and api.json["title"] == "Old class"
        assert page.status_code == 200 and "Old class" in page.get_data(as_text=True)
    else:
        assert api.status_code == 404
        assert api.json["error"]["code"] == "not_found"
        assert page.status_code == 404 and "Old class" not in page.get_data(as_text=True)


@pytest.mark.parametrize("actor_name", ACTORS)
def test_active_offering_is_public(db, auth, world, actor_name):
    actor = Actor(actor_name, world, auth)
    response = actor.api("GET", f"/api/v1/offerings/{world.offering.id}")
    assert response.status_code == 200
    assert response.json["title"] == "Pottery class"


@pytest.mark.parametrize("actor_name", ACTORS)
def test_store_page_lists_archived_offerings_only_to_its_people(db, auth, world, actor_name):
    actor = Actor(actor_name, world, auth)
    html = actor.client.get(f"/stores/{world.store.id}").get_data(as_text=True)
    assert "Pottery class" in html
    assert ("Old class" in html) is (actor_name in VIEWERS)


def test_staff_dashboard_lists_their_store_and_no_management_links(db, auth, world):
    actor = Actor("staff", world, auth)
    response = actor.client.get("/merchant/")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'data-staff-store-id="{world.store.id}"' in html
    assert "Owner&#39;s store" in html and "Pottery class" in html
    assert f"/merchant/stores/{world.store.id}/edit" not in html
    assert f'data-business-id="{world.business.id}"' not in html


def test_other_staff_dashboard_does_not_list_the_store(db, auth, world):
    actor = Actor("other_staff", world, auth)
    html = actor.client.get("/merchant/").get_data(as_text=True)
    assert f'data-staff-store-id="{world.store.id}"' not in html
    assert "Pottery class" not in html


@pytest.mark.parametrize("actor_name", ["resident", "other_owner", "staff", "other_staff"])
@pytest.mark.parametrize("path", [
    "/merchant/businesses/{business}/edit", "/merchant/businesses/{business}/stores/new",
    "/merchant/stores/{store}/edit", "/merchant/stores/{store}/hours", "/merchant/stores/{store}/staff",
    "/merchant/stores/{store}/experiences/new", "/merchant/experiences/{offering}/edit",
], ids=["edit-business", "new-store", "edit-store", "hours", "staff", "new-offering", "edit-offering"])
def test_management_forms_are_not_shown_to_others(db, auth, world, actor_name, path):
    actor = Actor(actor_name, world, auth)
    url = path.format(business=world.business.id, store=world.store.id, offering=world.offering.id)
    response = actor.client.get(url)
    assert response.status_code in (403, 404)
    assert "<form" not in _main(response)


def _main(response) -> str:
    html = response.get_data(as_text=True)
    return html[html.find("<main"):html.find("</main>")]


def test_staff_token_cannot_list_someone_elses_businesses(client, db, world):
    response = client.get("/api/v1/businesses", headers=f.token_for(world.users["staff"]))
    assert response.status_code == 200
    assert response.json == []
    owner = client.get("/api/v1/businesses", headers=f.token_for(world.users["owner"]))
    assert [b["id"] for b in owner.json] == [world.business.id]


def test_admin_edit_keeps_the_owner(db, auth, world):
    actor = Actor("admin", world, auth)
    response = actor.api("PATCH", f"/api/v1/stores/{world.store.id}", {"lat": 30.3, "lng": 120.2})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.get(Business, world.business.id).owner_id == world.users["owner"].id
    point = LngLat.from_element(db.session.get(Store, world.store.id).location)
    assert (point.lng, point.lat) == (120.2, 30.3)
