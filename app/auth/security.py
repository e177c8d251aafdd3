"""Who is asking: session cookie, remember-me cookie or bearer token, for pages and the API alike."""

from __future__ import annotations

import flask_wtf.csrf
from apiflask import HTTPTokenAuth
from flask import Flask, Response, g, request, session
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from app import clock
from app.auth import services
from app.auth.models import User
from app.errors import error_body
from app.extensions import csrf, db, login_manager

# Not flask-login's remember cookie: that one is a signed user id nothing can revoke. This one holds a
# token stored (as a digest) in remember_tokens, replaced on every use and revoked on logout.
REMEMBER_COOKIE = "onsite_remember"
# The session keys of a login: flask-login's, the login session's key and the account's epoch.
LOGIN_KEYS = ("_user_id", "_fresh", "_id", "_sid", "_epoch")


def bearer_token() -> str | None:
    """Return the bearer token the request carries, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _space, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


class SessionOrTokenAuth(HTTPTokenAuth):
    """Bearer tokens for API clients; the browser session works too."""

    def __init__(self) -> None:
        super().__init__(scheme="Bearer", description="A token from POST /api/v1/auth/tokens, "
                         "or the browser's session cookie (with X-CSRFToken on writes).")
        self.verify_token(self._verify)
        self.error_processor(self._error)

    @staticmethod
    def _verify(token: str) -> User | None:
        return current_user._get_current_object() if current_user.is_authenticated else None

    def authenticate(self, auth, stored_password):
        # flask-httpauth only calls verify_token when a header came; a browser session
        # carries none, and flask-login has already resolved both the cookie and the token.
        return self._verify("")

    @staticmethod
    def _error(error):
        if error.status_code == 401:
            return error_body("unauthenticated", _("Log in or send a bearer token.")), 401, {
                "WWW-Authenticate": 'Bearer realm="onsite"'}
        return error_body("forbidden", _("You are not allowed to do that.")), error.status_code


api_auth = SessionOrTokenAuth()


def actor() -> User | None:
    """Return the user making this request, or None when anonymous."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def begin_login(user: User, *, remember: bool, fresh: bool = True) -> None:
    """Log this browser in: a login session in the account's current epoch, and a remember-me cookie if asked.

    A login by password starts from an empty session (nothing planted before survives); the caller commits.
    """
    if fresh:
        session.clear()
    login_user(user, fresh=fresh)
    session["_sid"] = services.start_login_session(user)
    session["_epoch"] = user.session_epoch
    if remember:
        g.remember_cookie = services.issue_remember_token(user)


def end_login() -> None:
    """Log this browser out: end its login session and remember-me token, and drop both cookies."""
    services.end_login(session.get("_sid"), request.cookies.get(REMEMBER_COOKIE))
    logout_user()
    session.clear()
    g.remember_cookie = ""


class _ClockSigner(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(clock.now().timestamp())


class _ClockSerializer(URLSafeTimedSerializer):
    """Flask-WTF's token serializer, timed by the app's clock (so WTF_CSRF_TIME_LIMIT follows it in tests)."""

    default_signer = _ClockSigner


def init_security(app: Flask) -> None:
    """Wire flask-login loaders and the CSRF policy."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Log in to continue.")
    login_manager.localize_callback = str  # flash the translated text: a lazy string cannot go in the session
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    # Flask-WTF builds its serializer from this module global; no setting chooses the clock.
    flask_wtf.csrf.URLSafeTimedSerializer = _ClockSerializer

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if "Authorization" in request.headers:
            # A request that carries credentials is authenticated by them alone (the request loader):
            # a cookie riding along must not stand in for a bad token, nor skip CSRF with it.
            return None
        if not user_id.isdigit():
            return None
        user = services.user_for_session(int(user_id), session.get("_sid") or "", session.get("_epoch"))
        if user is None:  # logged out elsewhere, or a new epoch: forget it, so a remember-me cookie may serve
            for key in LOGIN_KEYS:
                session.pop(key, None)
        return user

    @login_manager.request_loader
    def load_user_from_bearer(req) -> User | None:
        token = bearer_token()
        return services.user_for_token(token) if token else None

    @app.before_request
    def log_in_from_remember_cookie() -> None:
        raw = request.cookies.get(REMEMBER_COOKIE)
        if not raw or "_user_id" in session or request.endpoint == "static" or bearer_token():
            return
        found = services.use_remember_token(raw)
        if found is None:
            g.remember_cookie = ""  # dead: stop sending it
        else:
            user, replacement = found
            begin_login(user, remember=False, fresh=False)
            if replacement:
                g.remember_cookie = replacement
        # Committed before the view runs: the cookie this response sets must match a stored token
        # whatever the view's own transaction comes to.
        db.session.commit()

    @app.after_request
    def set_remember_cookie(response: Response) -> Response:
        value = g.pop("remember_cookie", None)
        if value is None:
            return response
        config = app.config
        options = {"httponly": config["REMEMBER_COOKIE_HTTPONLY"], "samesite": config["REMEMBER_COOKIE_SAMESITE"],
                   "secure": config["REMEMBER_COOKIE_SECURE"] or request.is_secure}
        if value:
            response.set_cookie(REMEMBER_COOKIE, value, max_age=config["REMEMBER_DAYS"] * 86400, **options)
        else:
            response.delete_cookie(REMEMBER_COOKIE, **options)
        return response

    @app.before_request
    def protect_writes() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if request.path.startswith("/api/"):
            # A forged cross-site request can only ride on the cookie; token and
            # cookie-less clients carry no ambient credentials to abuse.
            if bearer_token() or app.config["SESSION_COOKIE_NAME"] not in request.cookies:
                return
        csrf.protect()
