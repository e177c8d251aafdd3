"""Experience (offering) endpoints."""


from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, DateTime, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from marshmallow import pre_dump

from app import clock
from app.auth.security import actor, api_auth
from app.db import MAX_ID
from app.extensions import db
from app.fields import Amount, WholeNumber, amount_schema
from app.media.api import Picture
from app.media.services import cover_of
from app.merchants.services import get_store
from app.offerings import services
from app.offerings.models import CURRENCIES, Category, OfferingStatus
from bookings import services as booking_services
from geo.points import LngLat

bp = APIBlueprint("offerings_api", __name__, url_prefix="/api/v1/offerings", tag="Experiences")


class PriceOut(Schema):
    amount = String()
    currency = String()
    free = Boolean()


class StoreBrief(Schema):
    id = Integer()
    name = String()
    address = String()
    lat = Float()
    lng = Float()


class OfferingIn(Schema):
    store_id = WholeNumber(required=True, validate=Range(1, MAX_ID))
    title = String(required=True, validate=Length(min=1, max=140))
    description = String(validate=Length(max=5000))
    category = String(required=True, validate=OneOf(list(Category)))
    # Refuses a third decimal rather than rounding 1.234 to 1.23.
    price_amount = Amount(required=True, metadata=amount_schema("Paid at the store; 0 means free; at most two "
                                                                "decimals."))
    currency = String(validate=OneOf(list(CURRENCIES)), metadata={"example": "CNY"})
    duration_min = WholeNumber(validate=Range(5, 1440))
    capacity = WholeNumber(validate=Range(1, 1000), metadata={"description": "People per slot."})
    cancel_cutoff_hours = WholeNumber(validate=Range(0, 720))
    policy_text = String(validate=Length(max=2000))


class OfferingPatch(OfferingIn):
    status = String(validate=OneOf(list(OfferingStatus)))

    class Meta:
        exclude = ("store_id",)


class OfferingOut(Schema):
    id = Integer()
    title = String()
    description = String()
    category = String()
    category_label = String()
    price = Nested(PriceOut)
    duration_min = Integer()
    capacity = Integer()
    cancel_cutoff_hours = Integer()
    policy_text = String()
    status = String()
    photo = Nested(Picture, allow_none=True, metadata={"description": "The cover, or null (all photos: /photos)."})
    cover_image_url = String(allow_none=True, metadata={"description": "Deprecated: photo.url."})
    lat = Float()
    lng = Float()
    store = Nested(StoreBrief)
    created_at = DateTime()

    @pre_dump
    def shape(self, offering, **kwargs):
        point = LngLat.from_element(offering.location)
        store = offering.store
        cover = cover_of(offering)
        return {
            **{key: getattr(offering, key) for key in (
                "id", "title", "description", "category", "category_label", "duration_min", "capacity",
                "cancel_cutoff_hours", "policy_text", "status", "created_at")},
            "price": {"amount": f"{offering.price_amount:.2f}", "currency": offering.currency,
                      "free": offering.is_free},
            "photo": cover, "cover_image_url": cover["url"] if cover else None,
            "lat": point.lat, "lng": point.lng,
            "store": {"id": store.id, "name": store.name, "address": store.address,
                      "lat": point.lat, "lng": point.lng},
        }


class OfferingList(Schema):
    items = List(Nested(OfferingOut))
    next_after_id = Integer(allow_none=True)


class OfferingQuery(Schema):
    store_id = Integer(validate=Range(1, MAX_ID))
    category = String(validate=OneOf(list(Category)))
    after_id = Integer(load_default=0, validate=Range(0, MAX_ID))
    limit = Integer(load_default=20, validate=Range(1, 100))


@bp.post("")
@bp.auth_required(api_auth)
@bp.input(OfferingIn, arg_name="body")
@bp.output(OfferingOut, status_code=201)
@bp.doc(responses={403: "forbidden", 404: "not_found"})
def create_offering(body):
    """List a new experience at a store the caller owns."""
    store = get_store(actor(), body.pop("store_id"), manage=True)
    offering = services.create_offering(actor(), store, body)
    db.session.commit()
    return offering


@bp.get("/<int:offering_id>")
@bp.output(OfferingOut)
@bp.doc(responses={404: "not_found"})
def get_offering(offering_id: int):
    """Show one experience."""
    return services.get_offering(actor(), offering_id)


@bp.patch("/<int:offering_id>")
@bp.auth_required(api_auth)
@bp.input(OfferingPatch(partial=True), arg_name="body")
@bp.output(OfferingOut)
@bp.doc(responses={403: "forbidden", 404: "not_found"})
def update_offering(offering_id: int, body):
    """Change an experience the caller owns."""
    offering = services.get_offering(actor(), offering_id, manage=True)
    booking_services.change_offering(actor(), offering, body, clock.now())
    db.session.commit()
    return offering


@bp.delete("/<int:offering_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses={403: "forbidden", 404: "not_found"})
def archive_offering(offering_id: int):
    """Archive an experience: it leaves the listings but keeps its history."""
    offering = services.get_offering(actor(), offering_id, manage=True)
    booking_services.change_offering(actor(), offering, {"status": OfferingStatus.ARCHIVED}, clock.now())
    db.session.commit()
    return ""


# Registered last: the spec must meet the item schema on its own before inside a list.
@bp.get("")
@bp.input(OfferingQuery, location="query", arg_name="query")
@bp.output(OfferingList)
def list_offerings(query):
    """List active experiences by id (nearby search ranks by distance)."""
    items = services.list_offerings(store_id=query.get("store_id"), category=query.get("category"),
                                    limit=query["limit"], after_id=query["after_id"])
    next_id = items[-1].id if len(items) == query["limit"] else None
    return {"items": items, "next_after_id": next_id}
