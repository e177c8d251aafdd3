"""Who is asking: session cookie or bearer token, for pages and the API alike."""

from __future__ import annotations

from apiflask import HTTPTokenAuth
from flask import Flask, request
from flask_login import current_user

from app.auth.models import User
from app.auth.services import user_for_token
from app.errors import error_body
from app.extensions import csrf, db, login_manager


def bearer_token() -> str | None:
    """Return the bearer token the request carries, if any."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
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
            return error_body("unauthenticated", "Log in or send a bearer token."), 401, {
                "WWW-Authenticate": 'Bearer realm="onsite"'}
        return error_body("forbidden", "You are not allowed to do that."), error.status_code


api_auth = SessionOrTokenAuth()


def actor() -> User | None:
    """Return the user making this request, or None when anonymous."""
    return current_user._get_current_object() if current_user.is_authenticated else None


def init_security(app: Flask) -> None:
    """Wire flask-login loaders and the CSRF policy."""
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        if not user_id.isdigit():
            return None
        return db.session.get(User, int(user_id))

    @login_manager.request_loader
    def load_user_from_bearer(req) -> User | None:
        token = bearer_token()
        return user_for_token(token) if token else None

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
