"""What browsers may do with our responses: Content-Security-Policy with per-request nonces, HSTS and
Secure cookies over HTTPS, Permissions-Policy and the rest of the security headers.

The policy names no third-party origin but the tile server's (``TILE_URL``). Scripts run from our own
origin, or inline when they carry the request's nonce (``{{ csp_nonce() }}`` in templates, the
``nonced`` filter for folium's rendered head, and the Swagger UI page stamped here). ``<style>``
elements need the nonce too; style *attributes* are allowed (``style-src-attr 'unsafe-inline'``)
because folium writes them into popup HTML that Leaflet inserts at run time, where no nonce can go,
and a style attribute cannot run script; ``img-src`` keeps CSS from sending anything anywhere but us
and the tiles.
"""

from __future__ import annotations

import re
import secrets
from functools import lru_cache
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer
from markupsafe import Markup

# Pages rendered by APIFlask, not by our templates: their inline <script>/<style> get the nonce here.
STAMPED_ENDPOINTS = {"openapi.docs", "openapi.swagger_ui_oauth_redirect"}
PERMISSIONS_POLICY = ", ".join([
    "geolocation=(self)", "camera=(self)", "microphone=()", "payment=()", "usb=()", "display-capture=()",
    "accelerometer=()", "gyroscope=()", "magnetometer=()",
])
_INLINE_TAG = re.compile(r"<(script|style)\b(?![^>]*\bnonce=)", re.IGNORECASE)
_TEMPLATE_LABEL = re.compile(r"^\{[a-z]+\}\.")


def csp_nonce() -> str:
    """Return this request's nonce for inline ``<script>`` and ``<style>`` elements."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(18)
    return nonce


def with_nonce(html: str) -> Markup:
    """Give every ``<script>`` and ``<style>`` tag in trusted ``html`` the request's nonce."""
    return Markup(_INLINE_TAG.sub(lambda m: f'<{m.group(1)} nonce="{csp_nonce()}"', str(html)))  # noqa: S704


@lru_cache(maxsize=8)
def tile_source(tile_url: str | None) -> str | None:
    """The CSP source that admits the tile server of ``tile_url``; None when tiles are ours or off.

    A ``{s}`` subdomain becomes a wildcard: ``https://{s}.tile.example.org/…`` gives
    ``https://*.tile.example.org``.

    :raises ValueError: for a URL whose host cannot be written as a CSP source.
    """
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if not parts.netloc:
        return None  # a path on this site
    host = _TEMPLATE_LABEL.sub("*.", parts.netloc.rpartition("@")[2])
    if parts.scheme not in ("", "http", "https") or not re.fullmatch(r"[\w*.-]+(:\d+)?", host):
        raise ValueError(f"TILE_URL {tile_url!r}: its server cannot be named in the Content-Security-Policy")
    return f"{parts.scheme}://{host}" if parts.scheme else host


def content_security_policy(nonce: str | None, tiles: str | None) -> str:
    """The policy for a response; ``nonce`` admits the inline scripts and styles that carry it."""
    inline = f" 'nonce-{nonce}'" if nonce else ""
    directives = {
        "default-src": "'self'",
        "script-src": "'self'" + inline,
        "style-src": "'self'" + inline,
        "style-src-attr": "'unsafe-inline'",
        "img-src": "'self' data:" + (f" {tiles}" if tiles else ""),
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


@lru_cache(maxsize=8)
def _policy_without_nonce(tiles: str | None) -> str:
    """The policy of a response with no inline script or style (every API answer): the same every time."""
    return content_security_policy(None, tiles)


class SecureOverHttpsSessionInterface(SecureCookieSessionInterface):
    """Signed-cookie sessions that also mark every cookie of the response Secure on an HTTPS request.

    The session cookie is saved after every ``after_request`` hook has run (flask-login's remember
    cookie included), so this is the one place that sees them all. A request without a session cookie (an API
    client, a first visit) gets its empty session without building a signing serializer, and the serializer is
    built once per key, not once per request.
    """

    _serializers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if keys not in self._serializers:
            self._serializers[keys] = super().get_signing_serializer(app)
        return self._serializers[keys]

    def open_session(self, app, request):
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        super().save_session(app, session, response)
        if request.is_secure:
            cookies = response.headers.getlist("Set-Cookie")
            if cookies:
                response.headers.setlist("Set-Cookie", [
                    cookie if re.search(r";\s*secure\s*(;|$)", cookie, re.IGNORECASE) else f"{cookie}; Secure"
                    for cookie in cookies])


def init_headers(app: Flask) -> None:
    """Send the security headers on every response and offer templates the nonce."""
    tile_source(app.config.get("TILE_URL"))  # a TILE_URL the policy cannot name fails at start-up
    app.session_interface = SecureOverHttpsSessionInterface()
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.filters["nonced"] = with_nonce

    @app.after_request
    def security_headers(response):
        if request.endpoint in STAMPED_ENDPOINTS and response.mimetype == "text/html":
            response.set_data(with_nonce(response.get_data(as_text=True)))
        headers = response.headers
        nonce, tiles = g.get("csp_nonce"), tile_source(current_app.config.get("TILE_URL"))
        headers["Content-Security-Policy"] = content_security_policy(nonce, tiles) if nonce else \
            _policy_without_nonce(tiles)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")  # tile servers ask for one
        headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security",
                               f"max-age={current_app.config.get('HSTS_MAX_AGE', 31536000)}; includeSubDomains")
        return response
