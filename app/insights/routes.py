"""The demand radar's pages ("Demand near you" per store, the operator's city view) and the store dashboard."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import folium
from flask import Blueprint, Response, current_app, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_login import current_user, login_required
from folium.plugins import HeatMap
from geoalchemy2.shape import to_shape

from app import clock
from app.errors import NotFound, PermissionDenied
from app.i18n import current as current_locale
from app.insights import dashboard, services
from app.insights.models import ALL
from app.merchants.services import can_view_store_private, get_store
from app.offerings.models import CATEGORY_LABELS, Category
from geo.maps import add_pin, build_map, render_parts

bp = Blueprint("insights", __name__)
RADIUS_CHOICES, WINDOWS = services.RADIUS_CHOICES, services.WINDOWS


def _settings() -> tuple[ZoneInfo, int]:
    config = current_app.config
    return ZoneInfo(config.get("RADAR_TIMEZONE", "Asia/Shanghai")), int(config.get("RADAR_K", services.DEFAULT_K))


def _choice(name: str, choices: tuple[int, ...], default: int) -> int:
    value = request.args.get(name, type=int)
    return value if value in choices else default


def _private_store(store_id: int):
    """The store, for its owner, its staff and admins.

    :raises NotFound: when it does not exist. :raises PermissionDenied: for anybody else.
    """
    store = get_store(current_user, store_id)
    if not can_view_store_private(current_user, store):
        raise PermissionDenied(_("Only the store's owner and staff can see its figures."))
    return store


def _stores_of_user():
    from app.merchants.services import businesses_of, staff_stores_of

    stores = [s for b in businesses_of(current_user) for s in b.stores] + staff_stores_of(current_user)
    return list({s.id: s for s in stores}.values())


def _category_label(category: str) -> str:
    if category.startswith("w:"):
        return _("“%(words)s” (found nothing)", words=category[2:])
    return str(CATEGORY_LABELS.get(category, category))


def _radar_map(centre: tuple[float, float], zoom: int, cells, pins=()) -> dict:
    config = current_app.config
    return _drawn_map(centre, zoom, tuple(cells), tuple(pins), config.get("TILE_URL"), config.get("TILE_ATTRIBUTION"),
                      current_locale())


@lru_cache(maxsize=32)
def _drawn_map(centre: tuple[float, float], zoom: int, cells: tuple, pins: tuple, tile_url: str | None,
               attribution: str | None, locale: str) -> dict:
    """The radar's folium map, drawn once for the same cells, pins, tiles and language (its only inputs)."""
    m = build_map(centre, zoom, tile_url, attribution, height="460px", control_scale=True, max_zoom=19)
    top = max((c.searches for c in cells), default=0) or 1
    tip = _("%(searches)s searches, %(unmet)s found little or nothing, %(overflows)s found every seat taken")
    heat, features = [], []
    for c in cells:
        share = c.searches / top
        unmet_share = c.unmet / c.searches if c.searches else 0
        colour = "#d63384" if unmet_share >= 0.5 else "#fd7e14" if unmet_share >= 0.2 else "#0d6efd"
        properties = {"colour": colour, "opacity": round(0.15 + 0.55 * share, 1),
                      "tip": tip % {"searches": c.searches, "unmet": c.zero_results + c.few_results,
                                    "overflows": c.waitlist_overflows}}
        features.append({"type": "Feature", "id": str(c.cell), "geometry": services.cell_polygon(c.cell),
                         "properties": properties})
        heat.append([*c.centre, share])
    if features:
        # One layer for every hexagon: folium renders it once, not once a cell.
        folium.GeoJson(
            {"type": "FeatureCollection", "features": features}, name=_("Demand"),
            style_function=lambda feature: {
                "color": feature["properties"]["colour"], "weight": 1, "fillColor": feature["properties"]["colour"],
                "fillOpacity": feature["properties"]["opacity"], "className": "radar-cell"},
            tooltip=folium.GeoJsonTooltip(fields=["tip"], labels=False),
        ).add_to(m)
    if heat:
        HeatMap(heat, name=_("Heat"), radius=28, blur=22, min_opacity=0.25).add_to(m)
    for lat, lng, name in pins:
        add_pin(m, lat, lng, None, name)
    return render_parts(m)


@bp.get("/merchant/demand")
@login_required
def demand_home():
    stores = _stores_of_user()
    if not stores and current_user.is_admin:
        return redirect(url_for("insights.city_demand"))
    if not stores:
        raise NotFound(_("You have no store yet: create one to see the demand around it."))
    return redirect(url_for("insights.store_demand", store_id=stores[0].id))


@bp.get("/merchant/stores/<int:store_id>/demand")
@login_required
def store_demand(store_id: int):
    store = _private_store(store_id)
    zone, k = _settings()
    radius = _choice("radius", RADIUS_CHOICES, 3000)
    days = _choice("days", WINDOWS, 7)
    category = request.args.get("category", ALL)
    if category != ALL and category not in set(Category):
        category = ALL
    until = clock.today(zone)
    since = until - timedelta(days=days - 1)
    point = to_shape(store.location)
    cells = services.demand_by_cell(
        res=services.RES_FINE, since=since, until=until, k=k, category=category,
        cells=services.cells_within(point.y, point.x, radius, services.RES_FINE))
    ranked = services.opportunities(lat=point.y, lng=point.x, radius_m=radius, since=since, until=until, k=k,
                                    business_id=store.business_id)
    zoom = {1000: 15, 3000: 14, 5000: 13}[radius]
    radar_map = _radar_map((point.y, point.x), zoom, cells, [(point.y, point.x, store.name)])
    return render_template("insights/store_demand.html", store=store, stores=_stores_of_user(), map=radar_map,
                           cells=cells, opportunities=ranked, radius=radius, days=days, category=category,
                           radius_choices=RADIUS_CHOICES, windows=WINDOWS, k=k, since=since, until=until,
                           categories=list(Category), label=_category_label, CATEGORY_LABELS=CATEGORY_LABELS,
                           weekday_names=[format_date(date(2024, 1, 1) + timedelta(days=i), "EEE") for i in range(7)])


@bp.get("/admin/demand")
@login_required
def city_demand():
    if not current_user.is_admin:
        raise PermissionDenied(_("Only the platform operator can see the whole city's demand."))
    zone, k = _settings()
    days = _choice("days", WINDOWS, 28)
    category = request.args.get("category", ALL)
    if category != ALL and category not in set(Category):
        category = ALL
    until = clock.today(zone)
    since = until - timedelta(days=days - 1)
    cells = services.demand_by_cell(res=services.RES_CITY, since=since, until=until, k=k, category=category)
    centre = (30.25, 120.16)
    if cells:
        lats, lngs = zip(*(c.centre for c in cells), strict=True)
        centre = (sum(lats) / len(lats), sum(lngs) / len(lngs))
    ranked = sorted(cells, key=lambda c: (-c.unmet, -c.searches))[:15]
    return render_template("insights/city_demand.html", map=_radar_map(centre, 11, cells), cells=cells,
                           ranked=ranked, days=days, category=category, windows=WINDOWS, k=k, since=since,
                           until=until, categories=list(Category), CATEGORY_LABELS=CATEGORY_LABELS)


@bp.get("/merchant/stores/<int:store_id>/dashboard")
@login_required
def store_dashboard(store_id: int):
    store = _private_store(store_id)
    days = _choice("days", WINDOWS, 28)
    charts = dashboard.store_charts(store, clock.now(), days)
    return render_template("insights/dashboard.html", store=store, stores=_stores_of_user(), charts=charts,
                           days=days, windows=WINDOWS)


@bp.get(f"/merchant/stores/<int:store_id>/dashboard/<any({', '.join(dashboard.CHARTS)}):chart>.csv")
@login_required
def store_dashboard_csv(store_id: int, chart: str):
    store = _private_store(store_id)
    days = _choice("days", WINDOWS, 28)
    table = dashboard.store_chart(store, clock.now(), days, chart)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(table.headers)
    writer.writerows(table.text_rows)
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="store-{store.id}-{chart}.csv"'})
