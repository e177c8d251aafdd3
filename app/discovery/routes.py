"""The home page: what is on around the city."""

from flask import Blueprint, render_template
from markupsafe import Markup

from app.offerings.services import list_offerings
from app.web import page_map
from geo.points import LngLat

bp = Blueprint("discovery", __name__)


@bp.get("/")
def home():
    offerings = list_offerings(limit=24)
    pins = []
    for offering in offerings:
        point = LngLat.from_element(offering.location)
        popup = Markup('<a href="/experiences/{}">{}</a><br>{}').format(
            offering.id, offering.title, offering.store.name)
        pins.append((point.lat, point.lng, popup, offering.title))
    return render_template("discovery/home.html", offerings=offerings, map=page_map(None, 12, pins))
