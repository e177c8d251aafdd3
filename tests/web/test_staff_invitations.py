"""Staff membership is an invitation the invitee accepts, never a change of someone else's account.

An owner invites an e-mail address (page or API) and is told the same thing whether or not it has an
account; the address gets an e-mail with a link, an account under it also an inbox message; accepting
makes the store_staff row; removing a member deletes that row only. Nobody's role changes.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from app.auth.models import Role, User
from app.merchants.models import Business, StaffInvitation, StoreStaff
from bookings.models import Notification, OutboxEmail
from tests import factories as f
from tests.conftest import AuthActions
from tests.web._bookings_world import read, scalar


@pytest.fixture
def shop(db):
    owner = f.create_merchant(email="owner@shop.test", display_name="Olive Owner")
    store = f.create_store(f.create_business(owner, name="Clay & Tea Co"), name="Lakeside Studio")
    other_store = f.create_store(f.create_business(f.create_merchant(email="other@shop.test")), name="Elsewhere")
    return {"owner": owner, "store": store, "other_store": other_store,
            "resident": f.create_user(email="ann@resident.test", display_name="Ann Resident"),
            "merchant": f.create_merchant(email="mo@merchant.test", display_name="Mo Merchant")}


def browser(app) -> AuthActions:
    """Another browser with its own cookies."""
    return AuthActions(app.test_client())


def html(response) -> str:
    return response.get_data(as_text=True)


def main(response) -> str:
    page = html(response)
    return page[page.find("<main"):page.find("</main>")]


def role_of(user: User) -> str:
    return scalar(select(User.role).where(User.id == user.id))


def members(store) -> set[int]:
    return {row.user_id for row in read(select(StoreStaff.user_id).where(StoreStaff.store_id == store.id))}


def invite_on_page(auth: AuthActions, store, email: str):
    return auth.post(f"/merchant/stores/{store.id}/staff", {"email": email}, follow_redirects=True)


def link_in_outbox(email: str) -> str:
    body = scalar(select(OutboxEmail.body).where(OutboxEmail.to_email == email).order_by(OutboxEmail.id.desc()))
    match = re.search(r"https?://[^/\s]+(/invitations/[A-Za-z0-9_-]+)", body)
    assert match, body
    return match.group(1)


# -- finding 2: an invitation, not a change of the victim's account ---------------------------

def test_inviting_a_resident_changes_nothing_until_they_accept(auth, shop):
    auth.login(shop["owner"].email)

    response = invite_on_page(auth, shop["store"], shop["resident"].email)

    assert response.status_code == 200
    assert f"Invitation sent to {shop['resident'].email}" in html(response)
    assert role_of(shop["resident"]) == Role.RESIDENT
    assert members(shop["store"]) == set()
    invitation = scalar(select(StaffInvitation).where(StaffInvitation.email == shop["resident"].email))
    assert (invitation.store_id, invitation.status, invitation.invited_by_id) == (
        shop["store"].id, "pending", shop["owner"].id)
    assert invitation.expires_at == invitation.created_at + timedelta(days=14)
    assert len(invitation.token_hash) == 64  # a digest: the token itself is only in the e-mail


def test_the_owner_learns_nothing_about_whether_an_address_has_an_account(auth, shop):
    auth.login(shop["owner"].email)
    store = shop["store"]
    known, unknown = shop["resident"].email, "nobody@nowhere.test"

    answers = {email: invite_on_page(auth, store, email) for email in (known, unknown)}

    def flash(email: str) -> str:
        return re.search(r'role="alert">\s*(.*?)<button', html(answers[email]), re.S).group(1).replace(email, "@")

    def listed(email: str) -> str:
        page = main(answers[unknown])  # the later page lists both
        item = re.search(r'<li[^>]*data-invitation-id="\d+">(?:(?!</li>).)*' + re.escape(email) + r".*?</li>",
                         page, re.S).group(0)
        return re.sub(r"\d+", "#", item.replace(email, "@"))

    assert answers[known].status_code == answers[unknown].status_code == 200
    assert flash(known) == flash(unknown)
    assert listed(known) == listed(unknown)
    assert "Ann Resident" not in main(answers[unknown])  # an invitation shows the address, never a name

    # The API: the same status and the same fields either way.
    api = f.token_for(shop["owner"])
    url = f"/api/v1/stores/{store.id}/invitations"
    one = auth.client.post(url, json={"email": shop["merchant"].email}, headers=api)
    other = auth.client.post(url, json={"email": "ghost@nowhere.test"}, headers=api)
    assert one.status_code == other.status_code == 201
    varying = {"id", "email", "created_at", "expires_at"}
    assert {k: v for k, v in one.json.items() if k not in varying} == \
        {k: v for k, v in other.json.items() if k not in varying}


def test_the_address_gets_a_link_and_an_account_under_it_an_inbox_message(auth, shop):
    auth.login(shop["owner"].email)
    invite_on_page(auth, shop["store"], shop["resident"].email)
    invite_on_page(auth, shop["store"], "nobody@nowhere.test")

    for email in (shop["resident"].email, "nobody@nowhere.test"):
        mail = scalar(select(OutboxEmail).where(OutboxEmail.to_email == email))
        assert mail.subject == "Onsite: Invitation to work at Lakeside Studio"
        assert "Olive Owner invites you to work at Lakeside Studio (Clay & Tea Co)" in mail.body
        assert link_in_outbox(email).startswith("/invitations/")
    notes = read(select(Notification.user_id, Notification.kind))
    assert notes == [(shop["resident"].id, "staff_invitation")]


def test_accepting_makes_a_member_and_the_role_stays(app, auth, shop):
    auth.login(shop["owner"].email)
    invite_on_page(auth, shop["store"], shop["resident"].email)

    invitee = browser(app)
    invitee.login(shop["resident"].email)
    inbox = invitee.client.get("/me/inbox")
    assert "Invitation to work at Lakeside Studio" in html(inbox) and "/me/invitations" in html(inbox)
    page = invitee.client.get("/me/invitations")
    assert "Lakeside Studio" in html(page) and "From Olive Owner" in html(page)
    invitation_id = int(re.search(r'data-invitation-id="(\d+)"', html(page)).group(1))

    accepted = invitee.post(f"/me/invitations/{invitation_id}/accept")

    assert accepted.status_code == 302 and accepted.headers["Location"] == "/merchant/"
    assert members(shop["store"]) == {shop["resident"].id}
    assert role_of(shop["resident"]) == Role.RESIDENT
    assert scalar(select(StaffInvitation.status).where(StaffInvitation.id == invitation_id)) == "accepted"
    # They work there now: the menu, the dashboard and the counter.
    dashboard = invitee.client.get("/merchant/")
    assert f'data-staff-store-id="{shop["store"].id}"' in html(dashboard) and "My stores" in html(dashboard)
    assert invitee.client.get(f"/merchant/stores/{shop['store'].id}/checkin").status_code == 200
    roster = invitee.client.get(f"/api/v1/stores/{shop['store'].id}/roster", headers=f.token_for(shop["resident"]))
    assert roster.status_code == 200
    # The owner's page lists the member, and the invitation no longer as open.
    owner_page = main(auth.client.get(f"/merchant/stores/{shop['store'].id}/staff"))
    assert f'data-member-id="{shop["resident"].id}"' in owner_page
    assert f'data-invitation-id="{invitation_id}"' not in owner_page


def test_removing_a_member_deletes_the_membership_only(app, auth, shop):
    resident = shop["resident"]
    f.add_staff(shop["store"], resident)
    auth.login(shop["owner"].email)

    removed = auth.post(f"/merchant/stores/{shop['store'].id}/staff/{resident.id}/delete")

    assert removed.status_code == 302
    assert members(shop["store"]) == set()
    assert role_of(resident) == Role.RESIDENT
    # Nothing was taken away from them: they can still start a business of their own.
    former = browser(app)
    former.login(resident.email)
    created = former.post("/merchant/businesses/new", {"name": "Ann's Bakery", "category": "food"})
    assert created.status_code == 302
    assert scalar(select(func.count()).select_from(Business).where(Business.owner_id == resident.id)) == 1
    assert former.client.get(f"/merchant/stores/{shop['store'].id}/checkin").status_code in (403, 404)


def test_a_merchant_elsewhere_can_be_staff_here_and_keeps_their_business(app, auth, shop):
    merchant = shop["merchant"]
    own = f.create_store(f.create_business(merchant, name="Mo's Own"), name="Mo's Store")
    auth.login(shop["owner"].email)
    invite_on_page(auth, shop["store"], merchant.email)

    api = f.token_for(merchant)
    pending = auth.client.get("/api/v1/me/invitations", headers=api)
    assert pending.status_code == 200
    (invitation,) = pending.json
    assert (invitation["store_id"], invitation["store_name"], invitation["business_name"], invitation["status"],
            invitation["invited_by"]) == (shop["store"].id, "Lakeside Studio", "Clay & Tea Co", "pending",
                                          "Olive Owner")

    accepted = auth.client.post(f"/api/v1/invitations/{invitation['id']}/accept", headers=api)

    assert accepted.status_code == 200 and accepted.json["status"] == "accepted"
    assert members(shop["store"]) == {merchant.id}
    assert role_of(merchant) == Role.MERCHANT
    mine = browser(app)
    mine.login(merchant.email)
    dashboard = html(mine.client.get("/merchant/"))
    assert f'data-store-id="{own.id}"' in dashboard and f'data-staff-store-id="{shop["store"].id}"' in dashboard
    assert auth.client.get("/api/v1/me/invitations", headers=api).json == []


def test_declining_leaves_everything_as_it_was(auth, shop):
    invitation = f.create_invitation(shop["store"], shop["resident"].email)
    api = f.token_for(shop["resident"])

    declined = auth.client.post(f"/api/v1/invitations/{invitation.id}/decline", headers=api)

    assert declined.status_code == 200 and declined.json["status"] == "declined"
    assert members(shop["store"]) == set() and role_of(shop["resident"]) == Role.RESIDENT
    again = auth.client.post(f"/api/v1/invitations/{invitation.id}/accept", headers=api)
    assert again.status_code == 409 and again.json["error"]["code"] == "invitation_closed"
    assert members(shop["store"]) == set()


def test_only_the_invited_address_or_the_links_holder_may_answer(app, auth, shop):
    invitation = f.create_invitation(shop["store"], "someone@else.test", token="t" * 43)
    intruder = f.token_for(shop["resident"])

    by_id = auth.client.post(f"/api/v1/invitations/{invitation.id}/accept", headers=intruder)
    assert by_id.status_code == 404 and by_id.json["error"]["code"] == "not_found"
    auth.login(shop["resident"].email)
    assert auth.post(f"/me/invitations/{invitation.id}/accept").status_code == 404
    assert auth.post(f"/me/invitations/{invitation.id}/accept", {"token": "u" * 43}).status_code == 404
    assert members(shop["store"]) == set()

    # The e-mailed link is the proof: whoever holds it accepts with the account they are logged into.
    page = auth.client.get(f"/invitations/{'t' * 43}")
    assert page.status_code == 200 and "Lakeside Studio" in html(page)
    assert auth.post(f"/me/invitations/{invitation.id}/accept", {"token": "t" * 43}).status_code == 302
    assert members(shop["store"]) == {shop["resident"].id}


def test_the_link_asks_for_a_login_first_and_an_unknown_link_is_404(auth, shop):
    auth.login(shop["owner"].email)
    invite_on_page(auth, shop["store"], "newbie@nowhere.test")
    path = link_in_outbox("newbie@nowhere.test")
    auth.logout()

    response = auth.client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    auth.login(shop["resident"].email)
    assert auth.client.get(path).status_code == 200
    assert auth.client.get("/invitations/" + "x" * 43).status_code == 404
    assert auth.client.get("/invitations/short").status_code == 404


def test_an_expired_invitation_cannot_be_accepted(auth, shop, clock):
    invitation = f.create_invitation(shop["store"], shop["resident"].email)
    clock.travel(clock.now() + timedelta(days=14, seconds=1), tick=False)
    api = f.token_for(shop["resident"])

    assert auth.client.get("/api/v1/me/invitations", headers=api).json == []
    response = auth.client.post(f"/api/v1/invitations/{invitation.id}/accept", headers=api)

    assert response.status_code == 409 and response.json["error"]["code"] == "invitation_expired"
    assert members(shop["store"]) == set()
    owner = f.token_for(shop["owner"])
    listed = auth.client.get(f"/api/v1/stores/{shop['store'].id}/staff", headers=owner).json
    assert [(i["email"], i["status"]) for i in listed["invitations"]] == [(shop["resident"].email, "expired")]


def test_inviting_again_renews_the_one_row_and_the_old_link_dies(auth, shop):
    auth.login(shop["owner"].email)
    invite_on_page(auth, shop["store"], "twice@nowhere.test")
    first = link_in_outbox("twice@nowhere.test")
    invite_on_page(auth, shop["store"], "Twice@Nowhere.test ")
    second = link_in_outbox("twice@nowhere.test")

    assert first != second
    assert scalar(select(func.count()).select_from(StaffInvitation)
                  .where(StaffInvitation.store_id == shop["store"].id)) == 1
    assert auth.client.get(first).status_code == 404
    assert auth.client.get(second).status_code == 200


def test_a_withdrawn_invitation_cannot_be_accepted(auth, shop):
    invitation = f.create_invitation(shop["store"], shop["resident"].email)
    owner = f.token_for(shop["owner"])

    withdrawn = auth.client.delete(f"/api/v1/stores/{shop['store'].id}/invitations/{invitation.id}", headers=owner)

    assert withdrawn.status_code == 204
    response = auth.client.post(f"/api/v1/invitations/{invitation.id}/accept", headers=f.token_for(shop["resident"]))
    assert response.status_code == 409 and response.json["error"]["code"] == "invitation_closed"
    assert members(shop["store"]) == set()
    # Another store's owner cannot touch it.
    other = f.create_invitation(shop["store"], "x@nowhere.test")
    foreign = auth.client.delete(f"/api/v1/stores/{shop['other_store'].id}/invitations/{other.id}",
                                 headers=owner)
    assert foreign.status_code == 403


def test_staff_and_owner_addresses_are_refused_with_a_reason(auth, shop):
    f.add_staff(shop["store"], shop["resident"])
    owner = f.token_for(shop["owner"])
    url = f"/api/v1/stores/{shop['store'].id}/invitations"

    member = auth.client.post(url, json={"email": shop["resident"].email}, headers=owner)
    assert member.status_code == 409 and member.json["error"]["code"] == "already_staff"
    own = auth.client.post(url, json={"email": shop["owner"].email}, headers=owner)
    assert own.status_code == 422 and "email" in own.json["error"]["details"]
    bad = auth.client.post(url, json={"email": "not an address"}, headers=owner)
    assert bad.status_code == 422 and bad.json["error"]["code"] == "validation_failed"


def test_the_api_lists_members_and_removes_one(auth, shop):
    f.add_staff(shop["store"], shop["resident"])
    f.create_invitation(shop["store"], "pending@nowhere.test")
    owner = f.token_for(shop["owner"])

    listed = auth.client.get(f"/api/v1/stores/{shop['store'].id}/staff", headers=owner)
    assert listed.status_code == 200
    assert [(m["user_id"], m["display_name"]) for m in listed.json["members"]] == [
        (shop["resident"].id, "Ann Resident")]
    assert [i["email"] for i in listed.json["invitations"]] == ["pending@nowhere.test"]

    removed = auth.client.delete(f"/api/v1/stores/{shop['store'].id}/staff/{shop['resident'].id}", headers=owner)
    assert removed.status_code == 204
    assert members(shop["store"]) == set() and role_of(shop["resident"]) == Role.RESIDENT
    again = auth.client.delete(f"/api/v1/stores/{shop['store'].id}/staff/{shop['resident'].id}", headers=owner)
    assert again.status_code == 404
    staff_token = f.token_for(f.add_staff(shop["store"]))
    assert auth.client.get(f"/api/v1/stores/{shop['store'].id}/staff", headers=staff_token).status_code == 403


def test_an_account_made_staff_before_invitations_keeps_its_stores_and_may_start_a_business(auth, shop):
    legacy = f.add_staff(shop["store"], f.create_user(Role.STAFF, email="legacy@shop.test"))
    auth.login(legacy.email)

    assert f'data-staff-store-id="{shop["store"].id}"' in html(auth.client.get("/merchant/"))
    created = auth.client.post("/api/v1/businesses", json={"name": "Side hustle"}, headers=f.token_for(legacy))

    assert created.status_code == 201
    assert role_of(legacy) == Role.MERCHANT
    assert members(shop["store"]) == {legacy.id}


def test_invitations_are_rate_limited_per_account(auth, shop):
    owner = f.token_for(shop["owner"])
    url = f"/api/v1/stores/{shop['store'].id}/invitations"
    statuses = [auth.client.post(url, json={"email": f"n{i}@nowhere.test"}, headers=owner).status_code
                for i in range(31)]
    assert statuses == [201] * 30 + [429]
