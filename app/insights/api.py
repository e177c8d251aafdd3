"""The demand radar in JSON: a store's "Demand near you" (its owner, staff and admins; anyone else 404) and the
operator's whole city (admins only; anyone else 403).

Only k-anonymous aggregates leave here, as the pages show them: cells that at least k distinct searchers
contributed to, counts rounded to 5, peak hours as an order without counts; never a search, a searcher or a
position finer than a cell.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from apiflask import APIBlueprint, Schema
from apiflask.fields import Date, Float, Integer, List, Nested, String
from apiflask.validators import OneOf
from flask import current_app
from geoalchemy2.shape import to_shape

from app import clock
from app.auth.security import actor, api_auth
from app.errors import NotFound, PermissionDenied
from app.insights import services
from app.insights.models import ALL
from app.merchants.services import can_view_store_private, get_store
from app.offerings.models import Category

bp = APIBlueprint("insights_api", __name__, url_prefix="/api/v1", tag="Demand radar")

STORE_ERRORS = {401: "unauthenticated", 404: "not_found", 422: "validation_failed"}
CITY_ERRORS = {401: "unauthenticated", 403: "forbidden", 422: "validation_failed"}
CATEGORY = {"validate": OneOf([ALL, *Category]), "load_default": ALL, "metadata": {
    "description": "Searches that named this category; empty (the default) for every search."}}


def _days(default: int) -> Integer:
    return Integer(load_default=default, validate=OneOf(services.WINDOWS),
                   metadata={"description": "The period: the last 7, 28 or 90 days up to today (city time)."})


class CityDemandQuery(Schema):
    days = _days(28)
    category = String(**CATEGORY)


class StoreDemandQuery(CityDemandQuery):
    radius = Integer(load_default=3000, validate=OneOf(services.RADIUS_CHOICES),
                     metadata={"description": "Metres around the store: 1000, 3000 or 5000."})
    days = _days(7)


class PeakHourOut(Schema):
    weekday = Integer(metadata={"description": "ISO weekday, 1 = Monday."})
    hour = Integer(metadata={"description": "Local hour of the day, 0-23."})


class CellCountsOut(Schema):
    searches = Integer()
    zero_results = Integer()
    few_results = Integer()
    waitlist_overflows = Integer()


class CellGeometryOut(Schema):
    type = String(metadata={"description": "Polygon"})
    coordinates = List(List(List(Float())), metadata={
        "description": "One closed ring of [lng, lat] corners of the h3 cell."})


class CellOut(Schema):
    type = String(metadata={"description": "Feature"})
    id = String(metadata={"description": "The h3 cell index."})
    geometry = Nested(CellGeometryOut)
    properties = Nested(CellCountsOut, metadata={"description": "Rounded to 5."})


class OwnOfferingOut(Schema):
    id = Integer()
    title = String()


class OpportunityOut(Schema):
    category = String(metadata={"description": "A category, or w:<words> searched that found nothing."})
    words = String(allow_none=True)
    searches = Integer()
    zero_results = Integer()
    few_results = Integer()
    waitlist_overflows = Integer()
    offers = Integer(metadata={"description": "Active experiences of this category within the radius."})
    peak_hours = List(Nested(PeakHourOut))
    own_offerings = List(Nested(OwnOfferingOut), metadata={"description": "Yours that could serve it."})


class CityDemandOut(Schema):
    since = Date()
    until = Date()
    days = Integer()
    category = String()
    k = Integer(metadata={"description": "A cell is shown only when at least k distinct people searched in it."})
    resolution = Integer(metadata={"description": "The h3 resolution of the cells."})
    cells = List(Nested(CellOut))


class StoreDemandOut(CityDemandOut):
    store_id = Integer()
    radius = Integer()
    opportunities = List(Nested(OpportunityOut))
    peak_hours = List(Nested(PeakHourOut), metadata={
        "description": "The area's three busiest hours of the week, busiest first (empty under k searchers)."})


def _settings() -> tuple[ZoneInfo, int]:
    config = current_app.config
    return ZoneInfo(config["RADAR_TIMEZONE"]), int(config["RADAR_K"])


def _hours(peaks) -> list[dict]:
    return [{"weekday": weekday, "hour": hour} for weekday, hour in peaks]


def _cells_json(cells) -> list[dict]:
    return [{"type": "Feature", "id": services.cell_hex(c.cell), "geometry": services.cell_polygon(c.cell),
             "properties": {"searches": c.searches, "zero_results": c.zero_results, "few_results": c.few_results,
                            "waitlist_overflows": c.waitlist_overflows}} for c in cells]


@bp.get("/insights/stores/<int:store_id>/demand")
@bp.auth_required(api_auth)
@bp.input(StoreDemandQuery, location="query", arg_name="query")
@bp.output(StoreDemandOut)
@bp.doc(responses=STORE_ERRORS)
def store_demand(store_id: int, query):
    """What people searched for around one of your stores: cells, ranked opportunities, peak hours."""
    store = get_store(actor(), store_id)
    if not can_view_store_private(actor(), store):
        raise NotFound()
    zone, k = _settings()
    until = clock.today(zone)
    since = until - timedelta(days=query["days"] - 1)
    point, radius, category = to_shape(store.location), query["radius"], query["category"]
    area = {"lat": point.y, "lng": point.x, "radius_m": radius, "since": since, "until": until, "k": k}
    cells = services.demand_by_cell(res=services.RES_FINE, since=since, until=until, k=k, category=category,
                                    cells=services.cells_within(point.y, point.x, radius, services.RES_FINE))
    ranked = services.opportunities(**area, business_id=store.business_id)
    return {"store_id": store.id, "radius": radius, "since": since, "until": until, "days": query["days"],
            "category": category, "k": k, "resolution": services.RES_FINE, "cells": _cells_json(cells),
            "peak_hours": _hours(services.area_peak_hours(**area, category=category)),
            "opportunities": [{
                "category": o.category, "words": o.word, "searches": o.searches, "zero_results": o.zero_results,
                "few_results": o.few_results, "waitlist_overflows": o.waitlist_overflows, "offers": o.offers,
                "peak_hours": _hours(o.peak_hours),
                "own_offerings": [{"id": i, "title": t} for i, t in o.own_offerings]} for o in ranked]}


@bp.get("/admin/demand")
@bp.auth_required(api_auth)
@bp.input(CityDemandQuery, location="query", arg_name="query")
@bp.output(CityDemandOut)
@bp.doc(responses=CITY_ERRORS, tags=["Operator"])
def city_demand(query):
    """The whole city's demand by district-sized cells (the platform operator only): where to recruit."""
    if not actor().is_admin:
        raise PermissionDenied()
    zone, k = _settings()
    until = clock.today(zone)
    since = until - timedelta(days=query["days"] - 1)
    cells = services.demand_by_cell(res=services.RES_CITY, since=since, until=until, k=k,
                                    category=query["category"])
    return {"since": since, "until": until, "days": query["days"], "category": query["category"], "k": k,
            "resolution": services.RES_CITY, "cells": _cells_json(cells)}
