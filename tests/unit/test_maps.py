"""geo.maps: folium maps that load every script and stylesheet from /static/vendor."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

import folium
import pytest
from branca.colormap import LinearColormap
from folium.elements import JSCSSMixin
from folium.plugins import Fullscreen, HeatMap, MarkerCluster
from markupsafe import Markup

from geo import maps
from geo.maps import add_pin, build_map, localize_assets, render_parts

pytestmark = pytest.mark.filterwarnings("error")

VENDOR_DIR = Path(__file__).resolve().parents[2] / "app" / "static" / "vendor"
PREFIX = "/static/vendor"
TILE_URL = "https://tiles.example.test/{z}/{x}/{y}.png"

URL_RE = re.compile(r"""(?:https?:)?//[^\s"'<>`)]+""")
LOCAL_RE = re.compile(r"""/static/vendor/[^\s"'<>`)?#]+""")
CSS_URL_RE = re.compile(r"""url\(\s*['"]?([^'")]+?)['"]?\s*\)""")

BERLIN = (52.52, 13.405)  # (lat, lng)


def _sample_map(tile_url: str | None = TILE_URL) -> folium.Map:
    m = build_map(BERLIN, 13, tile_url, "Test tiles", static_prefix=PREFIX)
    add_pin(m, 52.52, 13.405, popup_html=Markup("<b>Main store</b>"), tooltip="Main")
    cluster = MarkerCluster(name="stores").add_to(m)
    for i in range(3):
        add_pin(cluster, 52.50 + i / 100, 13.40 + i / 100, tooltip=f"Store {i}")
    folium.Marker([52.53, 13.41], icon=folium.Icon(icon="star", prefix="fa")).add_to(
        cluster
    )
    folium.Marker(
        [52.54, 13.42], icon=folium.Icon(icon="glyphicon-home", prefix="glyphicon")
    ).add_to(m)
    HeatMap([[52.52, 13.405, 1.0], [52.51, 13.40, 0.5]]).add_to(m)
    return m


def _all_text(parts: dict) -> str:
    return "\n".join(str(parts[k]) for k in ("header", "html", "script"))


def _css_references(css_file: Path) -> list[Path]:
    """Files a vendored stylesheet points at with url(...), resolved on disk."""
    refs = []
    for ref in CSS_URL_RE.findall(css_file.read_text(encoding="utf-8")):
        if ref.startswith(("data:", "#")):
            continue
        assert not URL_RE.match(ref), f"{css_file} loads external {ref}"
        refs.append((css_file.parent / ref.split("?")[0].split("#")[0]).resolve())
    return refs


def test_rendered_map_has_no_external_url_but_the_tiles():
    parts = render_parts(_sample_map())

    urls = set(URL_RE.findall(_all_text(parts)))
    assert urls == {TILE_URL}


def test_every_referenced_vendor_file_exists():
    text = _all_text(render_parts(_sample_map()))

    paths = set(LOCAL_RE.findall(text))
    # Map, awesome markers, glyphicons, fontawesome, MarkerCluster and HeatMap.
    for expected in (
        "leaflet/leaflet.js",
        "leaflet/leaflet.css",
        "jquery/jquery.min.js",
        "leaflet.markercluster/leaflet.markercluster.js",
        "leaflet.markercluster/MarkerCluster.Default.css",
        "folium/leaflet_heat.min.js",
        "fontawesome/css/all.min.css",
        "glyphicons/css/bootstrap.min.css",
    ):
        assert f"{PREFIX}/{expected}" in paths
    for path in paths:
        local = VENDOR_DIR / path.removeprefix(PREFIX + "/")
        assert local.is_file(), f"{path} is referenced but {local} is missing"
        if local.suffix == ".css":
            for ref in _css_references(local):
                assert ref.is_file(), f"{local.name} needs {ref}, which is missing"


def test_every_known_cdn_url_has_a_local_copy():
    for cdn_url, path in maps.LOCAL_ASSETS.items():
        assert (VENDOR_DIR / path).is_file(), f"{cdn_url} -> {path} is missing"


@pytest.mark.parametrize("cls", [folium.Map, MarkerCluster, HeatMap])
def test_folium_defaults_are_all_mapped(cls):
    for _name, url in [*cls.default_js, *cls.default_css]:
        assert url in maps.LOCAL_ASSETS, f"{cls.__name__}: {url}"


def test_no_tiles_means_no_external_url_at_all():
    m = _sample_map(tile_url="")
    parts = render_parts(m)

    assert URL_RE.findall(_all_text(parts)) == []
    assert "L.tileLayer" not in parts["script"]


def test_parts_are_markup_and_name_the_map_variable():
    m = _sample_map()
    parts = render_parts(m)

    for key in ("header", "html", "script"):
        assert isinstance(parts[key], Markup)
    assert parts["map_name"] == m.get_name()
    assert f"var {parts['map_name']} = L.map(" in parts["script"]
    assert f'id="{parts["map_name"]}"' in parts["html"]
    assert "<script>" not in parts["script"].lstrip()[:20]
    # center is (lat, lng) and reaches Leaflet as [lat, lng]
    assert "center: [52.52, 13.405]" in parts["script"]


def test_static_prefix_is_used():
    m = build_map(None, 3, None, None, static_prefix="/assets/v1/")
    parts = render_parts(m, static_prefix="/assets/v1")

    assert '<script src="/assets/v1/leaflet/leaflet.js">' in parts["header"]
    assert PREFIX not in parts["header"]


def test_localizing_twice_and_rendering_twice_is_stable():
    m = _sample_map()
    localize_assets(m, PREFIX)
    first = render_parts(m)
    second = render_parts(m)

    assert set(LOCAL_RE.findall(first["header"])) == set(
        LOCAL_RE.findall(second["header"])
    )


def test_folium_class_defaults_are_left_alone():
    before = list(folium.Map.default_js)
    render_parts(_sample_map())

    assert folium.Map.default_js == before
    assert folium.Map.default_js[0][1].startswith("https://")
    # a map built without geo.maps still gets folium's own defaults
    assert folium.Map(tiles=None).default_js is folium.Map.default_js


class _CdnWidget(JSCSSMixin):
    default_js: ClassVar[list[tuple[str, str]]] = [
        ("widget", "https://cdn.example.com/widget.js")
    ]


def test_element_with_unknown_external_url_raises():
    m = _sample_map()
    _CdnWidget().add_to(m)

    with pytest.raises(ValueError, match="cdn.example.com/widget.js"):
        render_parts(m)


def test_folium_plugin_without_local_copy_raises():
    m = _sample_map()
    Fullscreen().add_to(m)

    with pytest.raises(ValueError, match="Control.FullScreen"):
        render_parts(m)


def test_link_added_during_render_raises():
    # branca colormaps add d3 from a CDN while rendering, outside JSCSSMixin.
    m = _sample_map()
    LinearColormap(["red", "blue"], vmin=0, vmax=1).add_to(m)

    with pytest.raises(ValueError, match="d3"):
        render_parts(m)


def test_add_pin_escapes_text_and_keeps_markup():
    m = build_map(BERLIN, 13, None, None)
    marker = add_pin(
        m,
        52.52,
        13.405,
        popup_html="<img src=x onerror=alert(1)>`${alert(2)}`",
        tooltip="</script><script>alert(3)</script>",
        draggable=True,
    )
    add_pin(m, 52.53, 13.41, popup_html=Markup("<b>{}</b>").format("Caf\u00e9 & <Co>"))
    script = render_parts(m)["script"]

    assert "<img" not in script
    assert "${" not in script
    assert "</script>" not in script
    assert "&lt;img src=x onerror=alert(1)&gt;" in script
    assert "<b>Caf\u00e9 &amp; &lt;Co&gt;<\\/b>" in script
    assert marker.location == [52.52, 13.405]
    assert marker.options["draggable"] is True
    assert f"var {marker.get_name()} = L.marker(" in script


def _without_ids(parts: dict) -> str:
    return re.sub(r"[0-9a-f]{32}", "ID", parts["header"] + parts["html"] + parts["script"])


@pytest.mark.parametrize("url", [TILE_URL, "https://{s}.tiles.example.test/{z}/{x}/{y}{r}.png",
                                 "https://tiles.example.test/{z}/{x}/{y}.png?key={apikey}"])
def test_a_tile_url_renders_as_folium_renders_it_itself(url):
    """build_map hands folium a provider of the URL (no search through xyzservices' names) when it can: the page
    is the same as folium makes of the bare URL."""
    ours = render_parts(build_map(BERLIN, 12, url, "&copy; Example", height="100%", control_scale=True))
    theirs = folium.Map(location=list(BERLIN), zoom_start=12, tiles=url, attr="&copy; Example", height="100%",
                        control_scale=True)
    assert _without_ids(ours) == _without_ids(render_parts(theirs))
    assert f'"{url}"' in ours["script"]  # as written, placeholders and all: Leaflet fills them in


@pytest.mark.parametrize("source", [
    "<b>{{ this.get_name() }}</b>", "{% if true %}yes{% endif %}\n", "a {# note #} b", "line\r\nnext\n",
    "var map_1 = L.map(\"map_1\", {\n  \"zoom\": 3\n});\n", "trailing\n\n", "", "{ a: {b: 1}}"])
def test_element_templates_render_as_jinja_renders_them(source):
    from branca.element import Element
    from jinja2 import Template

    element = Element(source)
    assert element.render() == Template(source).render(this=element, kwargs={})


def test_branca_compiles_a_template_source_once_and_renders_it_for_every_element():
    from branca.element import Element

    first, second = Element("<b>{{ this.get_name() }}</b>"), Element("<b>{{ this.get_name() }}</b>")
    assert first._template is second._template
    assert first.render() == f"<b>{first.get_name()}</b>" != second.render()  # each element renders itself


def test_a_plain_text_element_defines_no_macros_as_jinja_would_not():
    """branca's Div and MacroElement look up the header, html and script macros of their template's module."""
    from branca.element import Element
    from jinja2 import Template

    element = Element("<div id='plain'></div>\n")
    for macro in ("header", "html", "script"):
        assert element._template.module.__dict__.get(macro) is None
        assert Template("<div id='plain'></div>\n").module.__dict__.get(macro) is None
