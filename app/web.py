"""Things every page shares: template helpers, headers, the API spec fix-ups."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import orjson
import werkzeug.urls  # noqa: F401  (registers the "werkzeug.url_quote" codec error handler)
from babel.numbers import format_currency
from flask import Flask, Request, abort, current_app, request
from flask_babel import gettext as _
from flask_wtf.csrf import generate_csrf
from folium.plugins import MarkerCluster
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

from app import openapi
from app.db import MAX_ID
from app.errors import DATABASE_ERRORS, ValidationFailed, document_error_codes
from app.headers import init_headers
from app.i18n import parsed
from app.offerings.models import CATEGORY_LABELS, Category
from geo.maps import add_pin, build_map, render_parts
from geo.points import LngLat

# Show each currency the way its own customers read it (¥88.00, not CN¥88.00).
CURRENCY_LOCALES = {"CNY": "zh_CN", "HKD": "zh_HK", "JPY": "ja_JP", "USD": "en_US", "EUR": "de_DE",
                    "GBP": "en_GB", "SGD": "en_SG"}


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)  # as Flask's own JSON provider writes it
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def json_response(payload: Any, status: int = 200):
    """A JSON response written by orjson: for hot read endpoints whose payload is already plain data (a tenth of
    the time of ``jsonify``, which the rest of the app keeps)."""
    return current_app.response_class(orjson.dumps(payload, default=_json_default), status=status,
                                      mimetype="application/json")


def format_price(amount: Decimal | None, currency: str = "CNY") -> str:
    """Render a price paid at the store, or "Free" (in the request's language)."""
    if amount is None or Decimal(amount) == 0:
        return _("Free")
    return format_currency(amount, currency, locale=parsed(CURRENCY_LOCALES.get(currency, "en")))


class IdConverter(IntegerConverter):
    """``<int:…>`` where an id beyond what the database holds is a 404, not a 500."""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_ID:
            # Not ValidationError: werkzeug would then answer 405 or 404 depending on rule order.
            raise NotFound()
        return number


class OnsiteRequest(Request):
    """Flask's request, whose query string may hold raw bytes that are not UTF-8 (a client need not escape them):
    they are percent-encoded on arrival, as werkzeug keeps invalid escapes, so ``request.args`` and
    ``request.full_path`` read it instead of failing with a UnicodeDecodeError (the view's read, then the error
    handler's: a 500)."""

    def __init__(self, environ: dict, *args: Any, **kwargs: Any) -> None:
        super().__init__(environ, *args, **kwargs)
        try:
            self.query_string.decode()
        except UnicodeDecodeError:
            self.query_string = self.query_string.decode(errors="werkzeug.url_quote").encode()


WRITE_METHODS = frozenset(("POST", "PUT", "PATCH", "DELETE"))  # may carry a form or JSON to check


def _unstorable(text: str) -> bool:
    """Tell whether PostgreSQL text cannot hold this string: a NUL, or a lone surrogate UTF-8 cannot encode."""
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def unstorable_fields() -> dict[str, list[str]]:
    """Name the request's query, form and JSON fields that hold text the database cannot store.

    :raises werkzeug.exceptions.BadRequest: when the JSON body nests too deep to parse.
    """
    # The query string is decoded with errors replaced, so it can only hold a NUL (%00) PostgreSQL refuses; a form
    # exists only in a body.
    query = request.query_string
    fields = request.args.items(multi=True) if b"%00" in query or b"\x00" in query else []
    if request.method in WRITE_METHODS:
        fields = [*fields, *request.form.items(multi=True)]
    bad = [key for key, value in fields if _unstorable(key) or _unstorable(value)]
    if request.is_json:
        try:
            body = request.get_json(silent=True)  # malformed JSON is left to the view's own parsing
        except RecursionError:
            abort(400)
        # Strict JSON writes a NUL or a lone surrogate only as a \u escape: a body without one needs no walk.
        stack = [("", body)] if b"\\u" in request.get_data(cache=True) else []
        while stack:  # a loop, not recursion: the body may be nested nearly as deep as the parser allows
            path, value = stack.pop()
            if isinstance(value, str) and _unstorable(value):
                bad.append(path or "body")
            elif isinstance(value, dict):
                for key, item in value.items():
                    name = f"{path}.{key}" if path else str(key)
                    if _unstorable(key):
                        bad.append(path or "body")
                    else:
                        stack.append((name, item))
            elif isinstance(value, list):
                stack.extend((f"{path}[{index}]", item) for index, item in enumerate(value))
    return {name: ["must not contain NUL characters or unpaired surrogates."] for name in bad}


def init_web(app: Flask) -> None:
    """Register template helpers and response headers (before any blueprint)."""
    app.request_class = OnsiteRequest
    app.url_map.converters["int"] = IdConverter
    app.jinja_env.globals.update(
        csrf_token=generate_csrf,
        CATEGORY_LABELS=CATEGORY_LABELS,
        CATEGORIES=list(Category),
    )
    app.jinja_env.filters["price"] = format_price
    app.jinja_env.filters["tz"] = ZoneInfo

    @app.before_request
    def refuse_unstorable_text() -> None:
        # Every route would otherwise meet these only as a database error, i.e. a 500.
        if request.method in WRITE_METHODS or request.query_string:
            bad = unstorable_fields()
            if bad:
                raise ValidationFailed("Some fields hold characters that cannot be stored.", details=bad)

    @app.after_request
    def end_clean_reads_with_commit(response):
        # psycopg forgets its prepared statements on ROLLBACK, which is how a request's session
        # ends by default; a read that changed nothing ends with COMMIT instead, so hot queries
        # (nearby search) stay prepared on their connection. Writes still commit in their route.
        from app.extensions import db

        session = db.session()
        if request.method in ("GET", "HEAD") and response.status_code < 400 and session.in_transaction() \
                and not (session.new or session.dirty or session.deleted):
            try:
                session.commit()
            except DATABASE_ERRORS:  # the read is done and sound; only its connection is lost
                session.invalidate()
        return response

    init_headers(app)

    app.before_request(openapi.refuse_bodies_not_json)

    @app.spec_processor  # APIFlask keeps one: everything the spec needs added happens here
    def complete_spec(spec: dict) -> dict:
        return openapi.complete_spec(document_error_codes(spec), app)


def form_status(form) -> int:
    """422 for a posted form that came back with errors, else 200."""
    return 422 if request.method == "POST" and (form.errors or form.form_errors) else 200


def apply_form_errors(form, error) -> None:
    """Show a service's per-field errors on the form; the rest as a form-level message."""
    leftover = []
    for field_name, message in (error.details or {}).items():
        text = message if isinstance(message, str) else "; ".join(map(str, message))
        field = getattr(form, field_name, None)
        if field is not None and hasattr(field, "errors"):
            if not isinstance(field.errors, list):
                field.errors = list(field.errors)
            field.errors.append(text)
        else:
            leftover.append(f"{field_name}: {text}")
    if leftover or not error.details:
        form.form_errors.append(error.message if not leftover else "; ".join(leftover))


HANGZHOU = LngLat(lng=120.1500, lat=30.2590)  # where a new store's map opens


def page_map(center: LngLat | None, zoom: int, pins: Iterable[tuple[LngLat, Any, str | None]] = (), *,
             height: str = "360px", draggable: bool = False, clustered: bool = False) -> dict:
    """Build a map with local assets and the configured tiles; pins are (point, popup, tooltip).

    With ``clustered`` the map carries an empty MarkerCluster layer (``cluster_name``) for page scripts.
    """
    config = current_app.config
    center = center or HANGZHOU
    m = build_map((center.lat, center.lng), zoom, config.get("TILE_URL"), config.get("TILE_ATTRIBUTION"),
                  height=height, control_scale=True, max_zoom=19)
    markers = [add_pin(m, point.lat, point.lng, popup, tooltip, draggable=draggable)
               for point, popup, tooltip in pins]
    cluster = MarkerCluster(options={"showCoverageOnHover": False, "maxClusterRadius": 50}).add_to(m) \
        if clustered else None
    parts = render_parts(m)
    parts["marker_names"] = [marker.get_name() for marker in markers]
    parts["cluster_name"] = cluster.get_name() if cluster else None
    return parts
