"""The one safe-redirect check (app/redirects.py): paths on this site pass, normalised; anything a browser
could follow to another host falls back to the default."""

from __future__ import annotations

import pytest

from app.redirects import safe_next

DEFAULT = "/landing"
HOST = "onsite.example:5000"


@pytest.mark.parametrize(
    "target",
    ["/", "/stores/1", "/stores/1?tab=hours#map", "/experiences/5/book", "/a//b", "/%2F%2Fevil.example",
     "/%5Cevil.example", "/explore?q=tea%20house", "/stores/1?next=//evil.example", "/搜索?q=茶"],
)
def test_paths_inside_the_site_are_kept(target):
    assert safe_next(target, DEFAULT) == target


@pytest.mark.parametrize(
    ("target", "normalised"),
    [
        (" /stores/1", "/stores/1"),
        ("/stores/1 \n", "/stores/1"),
        ("/sto\tres/1", "/stores/1"),
        ("\x00/stores/\r1", "/stores/1"),
        ("\u3000/stores/1", "/stores/1"),  # ideographic space around it, as a pasted link may carry
    ],
)
def test_control_characters_and_surrounding_whitespace_are_dropped(target, normalised):
    assert safe_next(target, DEFAULT) == normalised


NASTY = [
    None, "", "   ", "\t", 42, b"/stores/1",
    "http://evil.example/", "https://evil.example/stores/1", "HTTPS://evil.example", "ftp://evil.example/",
    "//evil.example", "///evil.example", "////evil.example", " //evil.example", "\t//evil.example",
    "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "/\x00/evil.example", "/\x7f/evil.example",
    "/\x0b/evil.example", "/\x1f/evil.example", "\x01//evil.example", "/\t\t/evil.example",
    "/\\evil.example", "\\\\evil.example", "\\/evil.example", "/\\/evil.example", "/stores/1\\..\\",
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "mailto:a@b.example",
    "evil.example", "stores/1", "./stores/1", "../stores/1", "?next=/", "#top",
    "http:/evil.example", "http:evil.example", "https:\\\\evil.example", "//evil.example@onsite.example",
    "http://onsite.example:5000.evil.example/", "http://user@onsite.example:5000/",
]


@pytest.mark.parametrize("target", NASTY)
def test_targets_that_could_leave_the_site_fall_back(target):
    assert safe_next(target, DEFAULT) == DEFAULT
    assert safe_next(target, DEFAULT, host=HOST) == DEFAULT


@pytest.mark.parametrize(
    ("target", "path"),
    [
        (f"http://{HOST}/stores/1?tab=hours", "/stores/1?tab=hours"),
        (f"https://{HOST}/", "/"),
        (f"http://{HOST}", "/"),
        (f"HTTP://{HOST.upper()}/me/visits#next", "/me/visits#next"),
    ],
)
def test_an_absolute_url_on_the_requests_own_host_becomes_its_path(target, path):
    assert safe_next(target, DEFAULT, host=HOST) == path
    assert safe_next(target, DEFAULT) == DEFAULT  # without the host, only paths


@pytest.mark.parametrize("target", [f"http://{HOST}//evil.example", f"http://{HOST}/\\evil.example",
                                    f"javascript://{HOST}/%0aalert(1)", f"ftp://{HOST}/stores/1"])
def test_an_absolute_url_on_the_host_still_cannot_escape(target):
    assert safe_next(target, DEFAULT, host=HOST) == DEFAULT
