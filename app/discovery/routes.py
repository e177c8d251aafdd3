"""The map pages: home and /explore, a map and a list of the same results."""


from flask import Blueprint, render_template, request

from app import clock
from app.discovery import services
from app.discovery.api import item_json
from app.offerings.models import CATEGORY_LABELS
from app.web import HANGZHOU, page_map
from geo import places
from geo.points import InvalidCoordinates, LngLat

bp = Blueprint("discovery", __name__)


@bp.get("/")
@bp.get("/explore")
def home():
    try:
        centre = LngLat.parse(request.args.get("lng"), request.args.get("lat"))
    except InvalidCoordinates:
        centre = HANGZHOU
    places.warm_up()
    page = services.nearby(services.NearbyQuery(point=centre, radius_m=services.DEFAULT_RADIUS_M, limit=50,
                                                sort="relevance"),  # what the page's Sort box says: Best match
                           clock.now())
    initial = {"lat": centre.lat, "lng": centre.lng, "radius_m": services.DEFAULT_RADIUS_M,
               "items": [item_json(item) for item in page.items]}
    return render_template("discovery/explore.html", map=page_map(centre, 14, clustered=True,
                                                                  height="100%"),
                           initial=initial, categories=CATEGORY_LABELS)
