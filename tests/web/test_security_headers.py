"""What browsers are told about our responses: a Content-Security-Policy naming no third party but the tile
server, a fresh nonce on every inline script and style, HSTS and Secure cookies whenever the request came
over HTTPS, Permissions-Policy and the rest, on pages, the API and the API docs."""

from __future__ import annotations

import re

import pytest

from app.headers import content_security_policy, tile_source
from tests import factories as f

INLINE = re.compile(r"<(script|style)\b([^>]*)>", re.IGNORECASE)
PERMISSIONS = {"geolocation": "(self)", "camera": "(self)", "microphone": "()"}


def policy(response) -> dict[str, str]:
    """The response's Content-Security-Policy as {directive: sources}."""
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request.path}"
    return dict((part.strip().split(" ", 1) + [""])[:2] for part in header.split(";"))


def nonce_of(response) -> str | None:
    match = re.search(r"'nonce-([^']+)'", policy(response)["script-src"])
    return match.group(1) if match else None


def assert_locked_down(response, tiles: str | None = None) -> None:
    """The policy every response carries: our origin only (plus the tiles for images)."""
    csp = policy(response)
    nonce = nonce_of(response)
    inline = f" 'nonce-{nonce}'" if nonce else ""
    assert csp == {
        "default-src": "'self'", "script-src": "'self'" + inline, "style-src": "'self'" + inline,
        "style-src-attr": "'unsafe-inline'", "img-src": "'self' data:" + (f" {tiles}" if tiles else ""),
        "connect-src": "'self'", "font-src": "'self'", "object-src": "'none'", "base-uri": "'self'",
        "form-action": "'self'", "frame-ancestors": "'none'"}
    headers = response.headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    permissions = dict(item.strip().split("=", 1) for item in headers["Permissions-Policy"].split(","))
    assert PERMISSIONS.items() <= permissions.items()
    assert "Strict-Transport-Security" not in headers  # plain HTTP: HSTS would be ignored, and wrong


def assert_inline_code_carries_the_nonce(response) -> int:
    """Every inline script and style element of the page carries the policy's nonce; return how many."""
    nonce, count = nonce_of(response), 0
    for tag, attributes in INLINE.findall(response.get_data(as_text=True)):
        if "src=" in attributes or 'type="application/json"' in attributes:
            continue  # a file from 'self', or data that never runs
        count += 1
        assert nonce and f'nonce="{nonce}"' in attributes, f"<{tag}{attributes}> on {response.request.path}"
    return count


@pytest.fixture
def offering(db):
    return f.create_offering()


@pytest.mark.parametrize("path", ["/", "/explore", "/offering", "/auth/login", "/auth/register"])
def test_pages_run_only_their_own_inline_code(client, offering, path):
    if path == "/offering":
        path = f"/experiences/{offering.id}"
    first, second = client.get(path), client.get(path)
    assert first.status_code == 200
    assert_locked_down(first)
    inline = assert_inline_code_carries_the_nonce(first)
    if path != "/auth/login" and path != "/auth/register":
        assert inline > 0  # the map's script (and the booking form's) run: the nonce admits them
    assert_inline_code_carries_the_nonce(second)
    if inline:
        assert nonce_of(first) != nonce_of(second)  # a nonce read off one response is no use on the next


def test_the_api_answers_with_the_policy_too(client, db):
    response = client.get("/api/v1/offerings")
    assert response.status_code == 200
    assert_locked_down(response)
    assert nonce_of(response) is None  # JSON runs nothing inline
    assert_locked_down(client.get("/api/v1/offerings/nearby"))  # errors too


def test_the_api_docs_run_their_inline_script_under_the_nonce(client, db):
    response = client.get("/docs")
    assert response.status_code == 200
    assert_locked_down(response)
    assert assert_inline_code_carries_the_nonce(response) >= 2  # Swagger UI's start-up script and its style


def test_the_tile_server_is_the_one_other_origin_images_come_from(app, client, db, monkeypatch):
    monkeypatch.setitem(app.config, "TILE_URL", "https://tiles.example.org:8443/{z}/{x}/{y}.png")
    assert_locked_down(client.get("/explore"), tiles="https://tiles.example.org:8443")
    monkeypatch.setitem(app.config, "TILE_URL", "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert_locked_down(client.get("/explore"), tiles="https://*.tile.openstreetmap.org")


@pytest.mark.parametrize(("url", "source"), [
    ("", None), (None, None), ("/tiles/{z}/{x}/{y}.png", None),
    ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
    ("https://{s}.basemaps.example.com/{z}/{x}/{y}{r}.png", "https://*.basemaps.example.com"),
    ("//tiles.example.org/{z}/{x}/{y}.png", "tiles.example.org"),
    ("http://127.0.0.1:8080/{z}/{x}/{y}.png", "http://127.0.0.1:8080"),
])
def test_tile_source(url, source):
    assert tile_source(url) == source


@pytest.mark.parametrize("url", ["https://tiles.{region}.example.org/{z}/{x}/{y}.png",
                                 "javascript://x/{z}", "https://a b/{z}"])
def test_a_tile_url_the_policy_cannot_name_is_refused(url):
    with pytest.raises(ValueError, match="TILE_URL"):
        tile_source(url)


def test_a_nonce_is_only_named_when_a_page_uses_one():
    assert "nonce" not in content_security_policy(None, None)
    assert "script-src 'self' 'nonce-abc'" in content_security_policy("abc", None)


def test_over_https_hsts_is_sent_and_every_cookie_is_secure(client, db):
    user = f.create_user()
    login = client.get("/auth/login", base_url="https://onsite.test")
    assert login.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    token = re.search(r'name="csrf-token" content="([^"]+)"', login.get_data(as_text=True)).group(1)
    response = client.post("/auth/login", base_url="https://onsite.test", data={
        "email": user.email, "password": f.PASSWORD, "remember": "y", "csrf_token": token},
        headers={"Referer": "https://onsite.test/auth/login"})  # Flask-WTF checks it over HTTPS
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    names = {cookie.split("=", 1)[0] for cookie in cookies}
    assert "session" in names and any("remember" in name for name in names), names
    assert all(re.search(r";\s*Secure(;|$)", cookie) for cookie in cookies), cookies
    assert "Strict-Transport-Security" in response.headers


def test_over_plain_http_cookies_are_not_secure_outside_production(client, db):
    response = client.get("/auth/login")
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers
