"""Business and store endpoints."""

from zoneinfo import available_timezones

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Date, DateTime, Email, Float, Integer, List, Nested, String, Time
from apiflask.validators import Length, OneOf, Range, Regexp
from flask_babel import lazy_gettext as _l
from marshmallow import pre_dump

from app import clock
from app.auth.security import actor, api_auth
from app.db import MAX_ID
from app.extensions import db
from app.fields import Number, WholeNumber
from app.merchants import services, staff
from app.merchants.models import BusinessCategory, InvitationStatus, StoreStatus
from app.merchants.routes import invitation_link, invitations_limit
from geo.points import LngLat

bp = APIBlueprint("merchants_api", __name__, url_prefix="/api/v1", tag="Stores")

TIME = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error=_l("must be a time HH:MM"))


class BusinessIn(Schema):
    name = String(required=True, validate=Length(min=1, max=120))
    description = String(validate=Length(max=4000))
    phone = String(validate=Length(max=40))
    category = String(validate=OneOf(list(BusinessCategory)))


class BusinessOut(Schema):
    id = Integer()
    name = String()
    description = String()
    phone = String()
    category = String()
    status = String()
    is_verified = Boolean()


CLOSES = ("Store-local HH:MM. At or before `opens`, the interval closes the next day (Friday 18:00–02:00 is "
          "open until Saturday 02:00); equal to `opens`, it is open 24 hours.")


class HoursIn(Schema):
    """One weekly interval; it belongs to the weekday it opens on."""

    weekday = WholeNumber(required=True, validate=Range(0, 6), metadata={"description": "0 = Monday"})
    opens = String(required=True, validate=TIME, metadata={"description": "Store-local HH:MM", "example": "18:00"})
    closes = String(required=True, validate=TIME, metadata={"description": CLOSES, "example": "02:00"})


class HoursOut(Schema):
    weekday = Integer()
    opens = Time(attribute="opens_at", format="%H:%M")
    closes = Time(attribute="closes_at", format="%H:%M", metadata={"description": CLOSES})


class ExceptionOut(Schema):
    id = Integer()
    date = Date(attribute="day")
    closed = Boolean(attribute="is_closed")
    opens = Time(attribute="opens_at", format="%H:%M", allow_none=True)
    closes = Time(attribute="closes_at", format="%H:%M", allow_none=True, metadata={"description": CLOSES})
    note = String()


class StoreIn(Schema):
    business_id = WholeNumber(required=True, validate=Range(1, MAX_ID))
    name = String(required=True, validate=Length(min=1, max=120))
    address = String(validate=Length(max=255))
    lat = Number(required=True, validate=Range(-90, 90))
    lng = Number(required=True, validate=Range(-180, 180))
    timezone = String(validate=OneOf(sorted(available_timezones()),
                                     error=_l("must be an IANA time zone such as Asia/Shanghai.")),
                      metadata={"example": "Asia/Shanghai"})
    geofence_m = WholeNumber(validate=Range(10, 5000))
    hours = List(Nested(HoursIn))


class StorePatch(StoreIn):
    status = String(validate=OneOf(list(StoreStatus)))

    class Meta:
        exclude = ("business_id",)


class StoreOut(Schema):
    id = Integer()
    business_id = Integer()
    business_name = String()
    name = String()
    address = String()
    lat = Float()
    lng = Float()
    timezone = String()
    status = String()
    geofence_m = Integer()
    hours = List(Nested(HoursOut))
    exceptions = List(Nested(ExceptionOut))

    @pre_dump
    def add_point(self, store, **kwargs):
        point = LngLat.from_element(store.location)
        store.lat, store.lng = point.lat, point.lng
        store.business_name = store.business.name
        return store


class StoreList(Schema):
    items = List(Nested(StoreOut))
    next_after_id = Integer(allow_none=True)


class StoreQuery(Schema):
    business_id = Integer(validate=Range(1, MAX_ID))
    after_id = Integer(load_default=0, validate=Range(0, MAX_ID))
    limit = Integer(load_default=50, validate=Range(1, 200))


@bp.get("/businesses")
@bp.auth_required(api_auth)
@bp.output(BusinessOut(many=True))
@bp.doc(tags=["Businesses"])
def list_my_businesses():
    """List the businesses the caller owns."""
    return services.businesses_of(actor())


@bp.post("/businesses")
@bp.auth_required(api_auth)
@bp.input(BusinessIn, arg_name="body")
@bp.output(BusinessOut, status_code=201)
@bp.doc(tags=["Businesses"])
def create_business(body):
    """Create a business owned by the caller."""
    business = services.create_business(actor(), body)
    db.session.commit()
    return business


@bp.patch("/businesses/<int:business_id>")
@bp.auth_required(api_auth)
@bp.input(BusinessIn(partial=True), arg_name="body")
@bp.output(BusinessOut)
@bp.doc(tags=["Businesses"], responses={403: "forbidden", 404: "not_found"})
def update_business(business_id: int, body):
    """Change a business the caller owns."""
    business = services.get_business(actor(), business_id, manage=True)
    services.update_business(actor(), business, body)
    db.session.commit()
    return business


@bp.post("/stores")
@bp.auth_required(api_auth)
@bp.input(StoreIn, arg_name="body")
@bp.output(StoreOut, status_code=201)
@bp.doc(responses={403: "forbidden", 404: "not_found"})
def create_store(body):
    """Place a store of one of the caller's businesses on the map."""
    business = services.get_business(actor(), body.pop("business_id"), manage=True)
    store = services.create_store(actor(), business, body)
    db.session.commit()
    return store


@bp.get("/stores/<int:store_id>")
@bp.output(StoreOut)
@bp.doc(responses={404: "not_found"})
def get_store(store_id: int):
    """Show a store with its hours."""
    return services.get_store(actor(), store_id)


@bp.patch("/stores/<int:store_id>")
@bp.auth_required(api_auth)
@bp.input(StorePatch(partial=True), arg_name="body")
@bp.output(StoreOut)
@bp.doc(responses={403: "forbidden", 404: "not_found"})
def update_store(store_id: int, body):
    """Change a store the caller owns; moving it moves its experiences."""
    store = services.get_store(actor(), store_id, manage=True)
    services.update_store(actor(), store, body)
    db.session.commit()
    return store


# -- staff: invitations and members --------------------------------------------------

class InvitationIn(Schema):
    email = Email(required=True, validate=Length(max=254), metadata={"example": "li.wei@example.com"})


class InvitationOut(Schema):
    id = Integer()
    store_id = Integer()
    store_name = String()
    business_name = String()
    email = String(metadata={"description": "The address invited."})
    status = String(validate=OneOf(list(InvitationStatus)), metadata={"description": "As of now."})
    invited_by = String(allow_none=True, metadata={"description": "The inviter's display name."})
    created_at = DateTime()
    expires_at = DateTime()


class MemberOut(Schema):
    user_id = Integer()
    display_name = String()
    email = String()
    since = DateTime()


class StaffOut(Schema):
    members = List(Nested(MemberOut))
    invitations = List(Nested(InvitationOut), metadata={"description": "Pending, expired and declined ones."})


def invitation_json(invitation) -> dict:
    return {"id": invitation.id, "store_id": invitation.store_id, "store_name": invitation.store.name,
            "business_name": invitation.store.business.name, "email": invitation.email,
            "status": invitation.status_at(clock.now()),
            "invited_by": invitation.invited_by.display_name if invitation.invited_by else None,
            "created_at": invitation.created_at, "expires_at": invitation.expires_at}


STAFF_TAGS = ["Staff"]


@bp.post("/stores/<int:store_id>/invitations")
@bp.auth_required(api_auth)
@bp.input(InvitationIn, arg_name="body")
@bp.output(InvitationOut, status_code=201)
@bp.doc(tags=STAFF_TAGS, responses={403: "forbidden", 404: "not_found", 409: "already_staff", 429: "rate_limited"})
@invitations_limit
def invite_staff(store_id: int, body):
    """Invite an e-mail address to work at the store (owner only).

    The address gets an e-mail with a link (and, if it has an account, an inbox message); they become
    staff when they accept. The answer is the same whether or not the address has an account. Inviting
    the same address again renews the invitation and its link.
    """
    store = services.get_store(actor(), store_id, manage=True)
    invitation = staff.invite_staff(actor(), store, body["email"], clock.now(), invitation_link)
    db.session.commit()
    return invitation_json(invitation)


@bp.get("/stores/<int:store_id>/staff")
@bp.auth_required(api_auth)
@bp.output(StaffOut)
@bp.doc(tags=STAFF_TAGS, responses={403: "forbidden", 404: "not_found"})
def list_staff(store_id: int):
    """The store's staff and its open invitations (owner only)."""
    people = staff.staff_of_store(actor(), services.get_store(actor(), store_id, manage=True))
    return {"members": [{"user_id": m.user_id, "display_name": m.user.display_name, "email": m.user.email,
                         "since": m.created_at} for m in people.members],
            "invitations": [invitation_json(i) for i in people.invitations]}


@bp.delete("/stores/<int:store_id>/invitations/<int:invitation_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(tags=STAFF_TAGS, responses={403: "forbidden", 404: "not_found", 409: "invitation_closed"})
def revoke_invitation(store_id: int, invitation_id: int):
    """Withdraw a pending invitation (owner only); its link stops working."""
    store = services.get_store(actor(), store_id, manage=True)
    staff.revoke_invitation(actor(), store, invitation_id, clock.now())
    db.session.commit()
    return ""


@bp.delete("/stores/<int:store_id>/staff/<int:user_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(tags=STAFF_TAGS, responses={403: "forbidden", 404: "not_found"})
def remove_staff(store_id: int, user_id: int):
    """Remove a member from the store (owner only); their account stays exactly as it was."""
    store = services.get_store(actor(), store_id, manage=True)
    staff.remove_staff(actor(), store, user_id)
    db.session.commit()
    return ""


@bp.get("/me/invitations")
@bp.auth_required(api_auth)
@bp.output(InvitationOut(many=True))
@bp.doc(tags=STAFF_TAGS)
def my_invitations():
    """The pending invitations sent to the caller's e-mail address."""
    return [invitation_json(i) for i in staff.invitations_for(actor(), clock.now())]


@bp.post("/invitations/<int:invitation_id>/accept")
@bp.auth_required(api_auth)
@bp.output(InvitationOut)
@bp.doc(tags=STAFF_TAGS, responses={404: "not_found", 409: "invitation_expired or invitation_closed"})
def accept_invitation(invitation_id: int):
    """Accept an invitation sent to the caller's address: the caller becomes staff of its store.

    The caller's account (its role, its own businesses) does not change.
    """
    invitation = staff.accept_invitation(actor(), invitation_id, clock.now())
    db.session.commit()
    return invitation_json(invitation)


@bp.post("/invitations/<int:invitation_id>/decline")
@bp.auth_required(api_auth)
@bp.output(InvitationOut)
@bp.doc(tags=STAFF_TAGS, responses={404: "not_found", 409: "invitation_expired or invitation_closed"})
def decline_invitation(invitation_id: int):
    """Decline an invitation sent to the caller's address."""
    invitation = staff.decline_invitation(actor(), invitation_id, clock.now())
    db.session.commit()
    return invitation_json(invitation)


# Registered last: the spec must meet the item schema on its own before inside a list.
@bp.get("/stores")
@bp.input(StoreQuery, location="query", arg_name="query")
@bp.output(StoreList)
def list_stores(query):
    """List stores on the map, by id; page with after_id."""
    stores = services.list_stores(business_id=query.get("business_id"), limit=query["limit"],
                                  after_id=query["after_id"])
    next_id = stores[-1].id if len(stores) == query["limit"] else None
    return {"items": stores, "next_after_id": next_id}

