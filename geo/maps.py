"""Folium maps whose every script and stylesheet is served from our own static files.

folium writes ``<script src>`` / ``<link href>`` tags pointing at public CDNs. Every
element that carries such links is a :class:`folium.elements.JSCSSMixin`;
:func:`localize_assets` walks a map's element tree and gives each of them
instance-level ``default_js`` / ``default_css`` lists that point at the copies in
``app/static/vendor`` (see ``app/static/vendor/README.md``). A URL with no local copy
raises :class:`ValueError`, so a new plugin cannot quietly bring a CDN back. The tile
server is the only thing a page fetches from outside; its URL is a setting.

Embedding a map in a page (as in folium's ``flask_example.py``)::

    parts = render_parts(m)
    # in the template:
    #   <head> ... {{ parts.header }} </head>
    #   <body> ... {{ parts.html }} ...
    #   <script>{{ parts.script }}</script>
    #   <script>const map = window[{{ parts.map_name|tojson }}]; ...</script>

Coordinates are named ``lat`` / ``lng``; folium itself takes ``[lat, lng]`` lists.
"""

from __future__ import annotations

import re
from functools import lru_cache
from string import Formatter
from types import SimpleNamespace
from typing import Any

import branca.element
import folium
import xyzservices
from branca.element import Element, Figure, Link
from folium.elements import JSCSSMixin
from jinja2 import Template
from markupsafe import Markup, escape

__all__ = [
    "DEFAULT_STATIC_PREFIX",
    "LOCAL_ASSETS",
    "add_pin",
    "build_map",
    "localize_assets",
    "render_parts",
]

DEFAULT_STATIC_PREFIX = "/static/vendor"

# Exact CDN URLs used by folium 0.20 (folium.py, plugins/marker_cluster.py,
# plugins/heat_map.py) -> path of the local copy, relative to the static prefix.
# Versions differ slightly where npm holds a newer patch release of the same file
# (leaflet 1.9.3 -> 1.9.4, awesome-markers 2.0.2 -> 2.0.5, markercluster 1.1.0 -> 1.5.3,
# Bootstrap 3.0.0 glyphicons -> glyphicons-only-bootstrap 1.0.1, i.e. Bootstrap 3.3.7).
_JSDELIVR = "https://cdn.jsdelivr.net"
_CDNJS = "https://cdnjs.cloudflare.com/ajax/libs"
_FOLIUM_GH = f"{_JSDELIVR}/gh/python-visualization/folium"

LOCAL_ASSETS: dict[str, str] = {
    # folium.Map
    f"{_JSDELIVR}/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    f"{_JSDELIVR}/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    f"{_CDNJS}/jquery/3.7.1/jquery.min.js": "jquery/jquery.min.js",
    f"{_JSDELIVR}/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": (
        "bootstrap/js/bootstrap.bundle.min.js"
    ),
    f"{_JSDELIVR}/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": (
        "bootstrap/css/bootstrap.min.css"
    ),
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css": (
        "glyphicons/css/bootstrap.min.css"
    ),
    f"{_JSDELIVR}/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": (
        "fontawesome/css/all.min.css"
    ),
    f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": (
        "leaflet.awesome-markers/leaflet.awesome-markers.js"
    ),
    f"{_CDNJS}/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": (
        "leaflet.awesome-markers/leaflet.awesome-markers.css"
    ),
    f"{_FOLIUM_GH}/folium/templates/leaflet.awesome.rotate.min.css": (
        "folium/leaflet.awesome.rotate.min.css"
    ),
    # folium.plugins.MarkerCluster
    f"{_CDNJS}/leaflet.markercluster/1.1.0/leaflet.markercluster.js": (
        "leaflet.markercluster/leaflet.markercluster.js"
    ),
    f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.css": (
        "leaflet.markercluster/MarkerCluster.css"
    ),
    f"{_CDNJS}/leaflet.markercluster/1.1.0/MarkerCluster.Default.css": (
        "leaflet.markercluster/MarkerCluster.Default.css"
    ),
    # folium.plugins.HeatMap
    f"{_FOLIUM_GH}@main/folium/templates/leaflet_heat.min.js": (
        "folium/leaflet_heat.min.js"
    ),
}

_EXTERNAL_URL = re.compile(r"^\s*(?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//")
# src="..." / href='...' / src=... pointing off-site, in the rendered <head> part.
_EXTERNAL_ATTR = re.compile(
    r"""\b(?:src|href)\s*=\s*["']?\s*((?:[a-zA-Z][a-zA-Z0-9+.-]*:)?//[^"'\s>]*)""",
    re.IGNORECASE,
)


def _is_external(url: str) -> bool:
    """True for ``http(s)://``, any other ``scheme://`` and ``//host`` URLs."""
    return bool(_EXTERNAL_URL.match(url))


def _local_url(url: str, static_prefix: str, owner: object) -> str:
    """The local URL that replaces ``url``; raise ``ValueError`` if there is none."""
    if not _is_external(url):
        return url  # already local (e.g. localized before)
    try:
        path = LOCAL_ASSETS[url]
    except KeyError:
        raise ValueError(
            f"{type(owner).__name__} wants {url!r}, which has no local copy under "
            "app/static/vendor; vendor the file and add it to geo.maps.LOCAL_ASSETS"
        ) from None
    return f"{static_prefix.rstrip('/')}/{path}"


def _walk(element: Element):
    """Yield ``element`` and everything below it, including Figure/Popup sub-parts."""
    seen: set[int] = set()
    stack = [element]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        stack.extend(reversed(list(node._children.values())))
        # Figure (header/html/script) and Popup (html/script) keep parts outside
        # _children.
        for attr in ("header", "html", "script"):
            part = getattr(node, attr, None)
            if isinstance(part, Element):
                stack.append(part)


def localize_assets(m: Element, static_prefix: str = DEFAULT_STATIC_PREFIX) -> None:
    """Point every JS/CSS link in ``m``'s whole tree at ``static_prefix``.

    Call it after the last child is added and right before rendering
    (:func:`render_parts` does). Works from the root Figure, so sibling maps and
    links already placed in the header by an earlier render are covered too.
    Raises ``ValueError`` for any external URL with no local copy.
    """
    root = m.get_root()
    for node in _walk(root):
        if isinstance(node, JSCSSMixin):
            # Instance attributes shadow the class-level lists, which folium shares
            # between all instances; never mutate those in place.
            node.default_js = [
                (name, _local_url(url, static_prefix, node))
                for name, url in node.default_js
            ]
            node.default_css = [
                (name, _local_url(url, static_prefix, node))
                for name, url in node.default_css
            ]
        elif isinstance(node, Link):
            node.url = _local_url(node.url, static_prefix, node)


def _check_header(root: Element, header: str) -> None:
    """Fail if rendering put an external script or stylesheet into the page head.

    Catches elements that add links while rendering without being a JSCSSMixin
    (e.g. branca colormaps, which add d3 from a CDN).
    """
    for node in _walk(root.header if isinstance(root, Figure) else root):
        if isinstance(node, Link) and _is_external(node.url):
            raise ValueError(
                f"rendering added {node.url!r}, which has no local copy; vendor it "
                "and add it to geo.maps.LOCAL_ASSETS"
            )
    match = _EXTERNAL_ATTR.search(header)
    if match:
        raise ValueError(f"map header loads external resource {match.group(1)!r}")


class _Verbatim:
    """A template source with no Jinja syntax in it, rendered as Jinja would: itself, less one trailing newline.
    It defines no macros: its ``module`` holds none (what branca's ``Div`` and ``MacroElement`` look for)."""

    module = SimpleNamespace()

    def __init__(self, source: str) -> None:
        self.source = source[:-1] if source.endswith("\n") else source

    def render(self, *_args: Any, **_kwargs: Any) -> str:
        return self.source


@lru_cache(maxsize=64)
def _compiled(source: str) -> Template:
    return Template(source)


def _element_template(source: str) -> Template | _Verbatim:
    """What branca makes of an element's template source, without compiling the same thing again and again.

    folium renders each part of a map (the map, its tiles, a cluster layer, ...) to JavaScript and wraps the text
    in a new branca ``Element``, which compiles it as a Jinja template: text with a fresh id in it, so nothing to
    cache, and nothing to fill in either. Such text (no ``{{``, ``{%``, ``{#``, and no carriage return, which Jinja
    would turn into a newline) renders as itself; any other source is compiled once.
    """
    if not any(mark in source for mark in ("{{", "{%", "{#", "\r")):
        return _Verbatim(source)
    return _compiled(source)


branca.element.Template = _element_template

# The placeholders a tile URL may hold for folium to hand it over as it is (xyzservices fills in any other).
_TILE_PLACEHOLDERS = frozenset(("s", "x", "y", "z", "r"))


@lru_cache(maxsize=8)
def _tiles(tile_url: str, attribution: str | None) -> str | xyzservices.TileProvider:
    """The tiles as folium takes them without searching xyzservices' providers for a name (a URL is never one;
    the search flattens every provider, a third of a map's cost): a provider of this URL, when it holds no other
    placeholder; else the URL itself."""
    fields = {field for _text, field, _spec, _conversion in Formatter().parse(tile_url) if field is not None}
    if not fields <= _TILE_PLACEHOLDERS:
        return tile_url
    return xyzservices.TileProvider(name="".join(tile_url.lower().split()), url=tile_url,
                                    attribution=attribution or "")


def build_map(
    center: tuple[float, float] | None,
    zoom: int,
    tile_url: str | None,
    attribution: str | None,
    static_prefix: str = DEFAULT_STATIC_PREFIX,
    **kwargs: Any,
) -> folium.Map:
    """A ``folium.Map`` centred on ``center`` = ``(lat, lng)`` whose assets are local.

    ``center=None`` shows the whole world (folium then forces zoom 1). An empty
    ``tile_url`` makes a map with no tile layer (tests, offline pages); otherwise
    ``attribution`` is required (folium raises ``ValueError`` without one).
    ``kwargs`` go to ``folium.Map`` (``width``, ``height``, ``min_zoom``,
    ``max_zoom``, ``control_scale``, ``scroll_wheel_zoom``, ...).

    The map's own links are localized here; call :func:`render_parts` (or
    :func:`localize_assets`) after adding children so theirs are too.
    """
    location = None if center is None else [center[0], center[1]]
    if tile_url:
        m = folium.Map(
            location=location,
            zoom_start=zoom,
            tiles=_tiles(tile_url, attribution),
            attr=attribution or None,
            **kwargs,
        )
    else:
        # Without a tile layer nothing gives the map a maxZoom, and MarkerCluster needs one.
        kwargs.setdefault("maxZoom", kwargs.get("max_zoom", 19))
        m = folium.Map(location=location, zoom_start=zoom, tiles=None, **kwargs)
    localize_assets(m, static_prefix)
    return m


def render_parts(
    m: folium.Map, static_prefix: str = DEFAULT_STATIC_PREFIX
) -> dict[str, Markup | str]:
    """Render ``m`` into the pieces a page template embeds.

    Returns ``header`` (tags for ``<head>``), ``html`` (the map ``<div>``),
    ``script`` (JavaScript *without* ``<script>`` tags; wrap it yourself) as
    ``Markup`` so Jinja does not escape them, and ``map_name``: the global
    JavaScript variable holding the ``L.map`` (``window[map_name]``), for page
    scripts that attach handlers, e.g. click-to-place a pin on a store form.
    """
    localize_assets(m, static_prefix)
    root = m.get_root()
    root.render()
    header = root.header.render()
    _check_header(root, header)
    # folium's own rendering; user text reached it only through add_pin, which escapes it.
    return {
        "header": Markup(header),  # noqa: S704
        "html": Markup(root.html.render()),  # noqa: S704
        "script": Markup(root.script.render()),  # noqa: S704
        "map_name": m.get_name(),
    }


def _for_js_template(html: str) -> str:
    """Make HTML safe to sit inside the JS template literal folium writes it into.

    folium puts popup HTML and tooltip text between backticks in an inline script,
    escaping only backticks. Turn ``\\``, `````, ``$`` into HTML character
    references (the browser shows them as the same characters) and break up
    ``</`` so ``</script>`` cannot end the inline script.
    """
    return (
        html.replace("\\", "&#92;")
        .replace("`", "&#96;")
        .replace("$", "&#36;")
        .replace("</", "<\\/")
    )


def add_pin(
    m: Element,
    lat: float,
    lng: float,
    popup_html: str | None = None,
    tooltip: str | None = None,
    draggable: bool = False,
) -> folium.Marker:
    """Add a marker at ``(lat, lng)`` to ``m`` (a map, MarkerCluster or FeatureGroup).

    ``popup_html`` follows the Jinja convention: a ``markupsafe.Markup`` is used as
    HTML, a plain ``str`` is escaped and shown as text (build HTML with
    ``Markup("<b>{}</b>").format(store.name)``). ``tooltip`` is text, always
    escaped unless it is ``Markup``. Returns the marker; ``marker.get_name()`` is its
    JavaScript variable (e.g. to read its position after a drag).
    """
    popup = None
    if popup_html is not None:
        popup = folium.Popup(_for_js_template(str(escape(popup_html))))
    tip = None
    if tooltip is not None:
        tip = folium.Tooltip(_for_js_template(str(escape(tooltip))))
    marker = folium.Marker(
        location=[lat, lng], popup=popup, tooltip=tip, draggable=draggable
    )
    marker.add_to(m)
    return marker
