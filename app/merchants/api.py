"""Business and store endpoints."""

from zoneinfo import available_timezones

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Date, Float, Integer, List, Nested, String, Time
from apiflask.validators import Length, OneOf, Range, Regexp
from marshmallow import pre_dump

from app.auth.security import actor, api_auth
from app.db import MAX_ID
from app.extensions import db
from app.fields import Number, WholeNumber
from app.merchants import services
from app.merchants.models import BusinessCategory, StoreStatus
from geo.points import LngLat

bp = APIBlueprint("merchants_api", __name__, url_prefix="/api/v1", tag="Stores")

TIME = Regexp(r"^([01]\d|2[0-3]):[0-5]\d$", error="must be a time HH:MM")


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
    timezone = String(validate=OneOf(sorted(available_timezones()), error="must be an IANA time zone such as "
                                                                          "Asia/Shanghai."),
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
