"""Discovery endpoints: nearby search, what is in view, place names."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache, wraps

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Decimal, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from marshmallow import missing

from app import clock
from app.discovery import services
from app.discovery.geo_messages import coordinate_errors
from app.errors import ValidationFailed
from app.fields import Day, _Translated
from app.media.api import Picture
from app.offerings.models import Category
from app.web import json_response
from geo.places import search_places
from geo.points import BBox, InvalidCoordinates, LngLat

bp = APIBlueprint("discovery_api", __name__, url_prefix="/api/v1", tag="Discovery")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_BOX_DEG = 2.0  # about 200 km: the in-view endpoint is for a city map, not the planet


class PriceArg(_Translated, Decimal):
    """A price typed in the explore page's box: its refusal in the resident's language."""

    default_error_messages = {"invalid": _l("Not a valid number."), "special": _l("Not a valid number.")}


PRICE_RANGE = Range(0, 99999999, error=_l("must be from 0 to 99999999."))


class FilterArgs(Schema):
    category = List(String(validate=OneOf(list(Category))), metadata={"description": "Repeatable."})
    q = String(validate=Length(min=1, max=100), metadata={"description": "Words in title, description "
                                                                        "or store name (any language)."})
    min_price = PriceArg(places=2, allow_nan=False, validate=PRICE_RANGE)
    max_price = PriceArg(places=2, allow_nan=False, validate=PRICE_RANGE)
    free = Boolean()
    open_now = Boolean(load_default=False, metadata={"description": "Open now in each store's time zone."})
    available_on = Day(metadata={"description": "Has a slot with room on this store-local date that can "
                                                "still be booked (after the experience's minimum notice)."})
    part_of_day = String(validate=OneOf(list(services.PARTS_OF_DAY)), metadata={
        "description": "With available_on: the slot starts that part of the store-local day: morning before "
                       "12:00, afternoon 12:00-16:59, evening from 17:00."})
    party = Integer(validate=Range(1, services.MAX_PARTY), metadata={
        "description": "With available_on: the slot has at least this many free seats (default 1)."})


class NearbyArgs(FilterArgs):
    lat = Float(required=True, allow_nan=False, validate=Range(-90, 90))
    lng = Float(required=True, allow_nan=False, validate=Range(-180, 180))
    radius_m = Integer(load_default=services.DEFAULT_RADIUS_M, validate=Range(1, services.MAX_RADIUS_M))
    sort = String(load_default="relevance", validate=OneOf(services.SORTS), metadata={"description": (
        "relevance (the default, \"Best match\"): highest score first, score = "
        "1 / (1 + metres / 1000) + 1.0 * (share of the q words found in the title; 0 without q) + "
        "0.3 * 2^(-days since the experience was listed / 14) + 0.5 * (Bayesian rating - 4; 0 unrated) + "
        "0.5 * (the merchant's integrity score - 80) / 20 (0 while new); merchants below INTEGRITY_HIDE_BELOW "
        "are left out. distance: nearest first, nothing else. rating: rated experiences by their Bayesian "
        "rating score (10 reviews' worth of their category's mean rating as the prior, then their own), "
        "then by the relevance score; while nothing in the results has a rating it orders exactly as "
        "relevance does.")})
    limit = Integer(load_default=services.DEFAULT_LIMIT, validate=Range(1, services.MAX_LIMIT))
    cursor = String(validate=Length(max=500), metadata={"description": "next_cursor of the previous page."})


class InViewArgs(FilterArgs):
    min_lng = Float(required=True, allow_nan=False, validate=Range(-180, 180))
    min_lat = Float(required=True, allow_nan=False, validate=Range(-90, 90))
    max_lng = Float(required=True, allow_nan=False, validate=Range(-180, 180))
    max_lat = Float(required=True, allow_nan=False, validate=Range(-90, 90))
    zoom = Integer(load_default=12, validate=Range(0, 22))


# Names of their own: offerings.api has a PriceOut and a StoreBrief too, and two schemas under one
# name make apispec rename and warn (a 500 for /openapi.json under the tests' warnings-as-errors).
class NearbyPrice(Schema):
    amount = String()
    currency = String()
    free = Boolean()


class NearbyStore(Schema):
    id = Integer()
    name = String()
    address = String()
    lat = Float()
    lng = Float()


class FeatureStore(Schema):
    id = Integer()
    name = String()


class RatingOut(Schema):
    avg = Float()
    count = Integer()


class NearbyItemOut(Schema):
    id = Integer()
    title = String()
    category = String()
    price = Nested(NearbyPrice)
    duration_min = Integer()
    store = Nested(NearbyStore)
    lat = Float()
    lng = Float()
    distance_m = Float(metadata={"description": "Metres on the spheroid, from PostGIS."})
    open_now = Boolean()
    rating = Nested(RatingOut, allow_none=True)
    photo = Nested(Picture, allow_none=True, metadata={"description": "The cover, or null."})


class NearbyOut(Schema):
    items = List(Nested(NearbyItemOut))
    next_cursor = String(allow_none=True)


class FeatureOut(Schema):
    id = Integer()
    title = String()
    category = String()
    lat = Float()
    lng = Float()
    price = Nested(NearbyPrice)
    store = Nested(FeatureStore)
    photo = Nested(Picture, allow_none=True, metadata={"description": "The cover, or null."})


class ClusterOut(Schema):
    lat = Float()
    lng = Float()
    count = Integer()


class InViewOut(Schema):
    mode = String(metadata={"description": "features (each offering) or clusters (counts)."})
    features = List(Nested(FeatureOut))
    clusters = List(Nested(ClusterOut))
    total = Integer()
    cell_deg = Float(allow_none=True)


class PlaceArgs(Schema):
    q = String(required=True, validate=Length(min=1, max=100))
    limit = Integer(load_default=8, validate=Range(1, 20))


class PlaceOut(Schema):
    name = String()
    local_name = String(allow_none=True)
    kind = String()
    country = String()
    lat = Float()
    lng = Float()
    zoom = Integer()


def _filters(args: dict) -> services.Filters:
    if args.get("min_price") is not None and args.get("max_price") is not None \
            and args["min_price"] > args["max_price"]:
        raise ValidationFailed(details={"max_price": [_("must not be below min_price.")]})
    needs_day = {name: [_("needs available_on (the day).")] for name in ("part_of_day", "party")
                 if args.get(name) is not None and args.get("available_on") is None}
    if needs_day:
        raise ValidationFailed(details=needs_day)
    return services.Filters(
        categories=tuple(dict.fromkeys(args.get("category") or ())), q=(args.get("q") or "").strip() or None,
        min_price=args.get("min_price"), max_price=args.get("max_price"), free=args.get("free"),
        open_now=args["open_now"], available_on=args.get("available_on"), part_of_day=args.get("part_of_day"),
        party=args.get("party") or 1)


def _serializer() -> URLSafeSerializer:
    return _cursor_serializer(current_app.config["SECRET_KEY"])


@lru_cache(maxsize=4)
def _cursor_serializer(secret_key: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret_key, salt="nearby-cursor")


def _fingerprint(args: dict) -> str:
    """Identify the search a cursor belongs to (everything but the cursor and the limit)."""
    relevant = {k: str(v) for k, v in sorted(args.items()) if k not in ("cursor", "limit")}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def _decode_cursor(args: dict) -> tuple[tuple | None, datetime | None]:
    """The sort key to continue after, and the instant the first page was ranked at (freshness)."""
    if not args.get("cursor"):
        return None, None
    try:
        payload = _serializer().loads(args["cursor"])
    except BadSignature:
        raise ValidationFailed(details={"cursor": [_("is not a cursor this API gave out.")]}) from None
    if payload.get("f") != _fingerprint(args):
        raise ValidationFailed(details={"cursor": [_("belongs to a different search.")]})
    return tuple(payload["k"]), EPOCH + timedelta(microseconds=payload["t"]) if "t" in payload else None


def item_json(item: services.NearbyItem) -> dict:
    """One nearby result as the API and the map page show it."""
    offering, store = item.offering, item.store
    return {
        "id": offering.id, "title": offering.title, "category": offering.category,
        "price": {"amount": f"{offering.price_amount:.2f}", "currency": offering.currency,
                  "free": offering.price_amount == 0},
        "duration_min": offering.duration_min,
        "store": {"id": store.id, "name": store.name, "address": store.address, "lat": item.lat, "lng": item.lng},
        "lat": item.lat, "lng": item.lng, "distance_m": round(item.distance_m, 1), "open_now": item.open_now,
        "rating": ({"avg": float(offering.rating_avg), "count": offering.rating_count}
                   if offering.rating_count else None),
        "photo": item.photo,
    }


_NUMBER = re.compile(r"-?\d{1,3}(\.\d{1,15})?")
_COUNT = re.compile(r"\d{1,6}")
_PLAIN_KEYS = frozenset(("lat", "lng", "radius_m", "limit", "sort", "category"))
_CATEGORIES = frozenset(Category)
_NEARBY_FIELDS = NearbyArgs().fields
_DEFAULTS = {name: field.load_default for name, field in _NEARBY_FIELDS.items() if field.load_default is not missing}
_BOUNDS = {name: next((v.min, v.max) for v in _NEARBY_FIELDS[name].validators if isinstance(v, Range))
           for name in ("lat", "lng", "radius_m", "limit")}


def _plain_nearby_args() -> dict | None:
    """The arguments of the commonest searches (position, radius, limit, sort, categories; each well formed and in
    NearbyArgs' range) exactly as NearbyArgs loads them, its defaults included, without its cost (a tenth of a
    search's CPU); None for any other query, which the schema then parses, and answers when it is wrong."""
    query = request.args
    if not query.keys() <= _PLAIN_KEYS:
        return None
    args = dict(_DEFAULTS)
    for key, values in query.lists():
        if key == "category":
            if not all(value in _CATEGORIES for value in values):
                return None
            args[key] = values
            continue
        if len(values) != 1:
            return None
        value = values[0]
        if key == "sort":
            if value not in services.SORTS:
                return None
            args[key] = value
            continue
        if not (_NUMBER if key in ("lat", "lng") else _COUNT).fullmatch(value):
            return None
        number = float(value) if key in ("lat", "lng") else int(value)
        low, high = _BOUNDS[key]
        if not low <= number <= high:
            return None
        args[key] = number
    return args if "lat" in args and "lng" in args else None


def _plain_args_first(parse_plain: Callable[[], dict | None]) -> Callable:
    """Between ``@bp.get`` and ``@bp.input``: the view gets ``parse_plain()``'s arguments when it gives them, else
    ``@bp.input`` parses (and documents) them as always."""
    def decorator(parsed_view: Callable) -> Callable:
        view = parsed_view.__wrapped__  # the view as @bp.input calls it, with args=

        @wraps(parsed_view)  # carries APIFlask's _spec: the schema stays in /openapi.json
        def plain_args_first(*positional, **named):
            args = parse_plain()
            if args is None:
                return parsed_view(*positional, **named)
            return view(*positional, args=args, **named)

        return plain_args_first

    return decorator


@bp.get("/offerings/nearby")
@_plain_args_first(_plain_nearby_args)
@bp.input(NearbyArgs, location="query", arg_name="args")
@bp.output(NearbyOut)
@bp.doc(summary="Experiences near a point", responses={422: "validation_failed"})
def nearby(args):
    """Visible experiences within radius_m of (lat, lng), nearest first by default; page with cursor."""
    after, ranked_at = _decode_cursor(args)
    query = services.NearbyQuery(
        point=LngLat(lng=args["lng"], lat=args["lat"]), radius_m=args["radius_m"], filters=_filters(args),
        sort=args["sort"], limit=args["limit"], after=after, ranked_at=ranked_at)
    page = services.nearby(query, clock.now())
    if query.after is None:
        services.record_search(current_app.extensions["search_log"], kind="nearby", point=query.point,
                               radius_m=query.radius_m, filters=query.filters, result_count=len(page.items),
                               has_more=page.next_key is not None, searcher=_searcher())
    cursor = None
    if page.next_key is not None:
        payload = {"k": list(page.next_key), "f": _fingerprint(args)}
        if query.sort != "distance":  # freshness moves with time: later pages rank as of the first
            payload["t"] = (page.ranked_at - EPOCH) // timedelta(microseconds=1)
        cursor = _serializer().dumps(payload)
    # Already in its final shape: skip the schema's dump (a millisecond a search); the schema documents it.
    return json_response({"items": [item_json(item) for item in page.items], "next_cursor": cursor})


def _searcher() -> int:
    """Who searched, as the demand radar's salted hash: the account, else the browser's address and agent."""
    from flask_login import current_user

    from app.insights.services import searcher_key

    if current_user.is_authenticated:
        who = f"user:{current_user.id}"
    else:
        who = f"anon:{request.remote_addr}:{request.headers.get('User-Agent', '')[:200]}"
    return searcher_key(who, current_app.config["SECRET_KEY"])


@bp.get("/offerings/in-view")
@bp.input(InViewArgs, location="query", arg_name="args")
@bp.output(InViewOut)
@bp.doc(summary="What a map box shows", responses={422: "validation_failed"})
def in_view(args):
    """Each offering in the box when there are few (at most 500), server-side clusters when many."""
    try:
        box = BBox.parse(args["min_lng"], args["min_lat"], args["max_lng"], args["max_lat"],
                         max_span_deg=MAX_BOX_DEG)
    except InvalidCoordinates as exc:
        raise ValidationFailed(details={k: [v] for k, v in coordinate_errors(exc.errors).items()}) from None
    filters = _filters(args)
    view = services.in_view(box, filters, clock.now())
    if view.mode == "clusters":
        current_app.extensions["grid_refresher"].touch()
    centre = LngLat(lng=(box.min_lng + box.max_lng) / 2, lat=(box.min_lat + box.max_lat) / 2)
    services.record_search(current_app.extensions["search_log"], kind="in_view", point=centre, radius_m=None,
                           filters=filters, result_count=view.total, has_more=view.mode == "clusters",
                           searcher=_searcher())
    # Up to 500 items in their final shape: skip the schema's dump; the schema documents it.
    return json_response({"mode": view.mode, "features": view.features, "clusters": view.clusters,
                          "total": view.total, "cell_deg": view.cell_deg})


@bp.get("/places")
@bp.input(PlaceArgs, location="query", arg_name="args")
@bp.output(PlaceOut(many=True))
@bp.doc(summary="Find a place by name, offline")
def places(args):
    """Districts of the demo city and the world's cities, by English or local name."""
    return search_places(args["q"], limit=args["limit"])
