"""Domain errors and the one place that turns any error into a response."""

from __future__ import annotations

import logging
from typing import Any

import psycopg
from flask import Flask, flash, redirect, render_template, request
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import exc as sa_exc
from werkzeug.exceptions import HTTPException

from app.error_codes import ERROR_CODES, status_of
from app.redirects import safe_next

log = logging.getLogger(__name__)


class DomainError(Exception):
    """An expected failure with a stable code, a message and details.

    The HTTP status is the code's, from the registry (``app.error_codes``), whether the code is the
    class's or given with ``code=``.
    """

    code = "error"
    http_status = ERROR_CODES["error"].http_status
    message = _l("The request could not be completed.")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.http_status = ERROR_CODES[cls.code].http_status  # an unregistered class code fails at import

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        # Plain text in the request's language (a class's lazy default included): JSON and the session take it.
        self.message = str(message or self.message)
        self.code = code or self.code
        self.http_status = status_of(self.code, self.http_status)
        self.details = details or {}
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    message = _l("Not found.")


class PermissionDenied(DomainError):
    code = "forbidden"
    message = _l("You are not allowed to do that.")


class Unauthenticated(DomainError):
    code = "unauthenticated"
    message = _l("Log in or send a bearer token.")


class ValidationFailed(DomainError):
    code = "validation_failed"
    message = _l("Some fields are not valid.")


class Conflict(DomainError):
    code = "conflict"
    message = _l("That conflicts with the current state.")


def wants_json() -> bool:
    """Tell whether the current request should be answered in JSON."""
    if request.path.startswith("/api/") or request.path == "/openapi.json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def _plain(value: Any) -> Any:
    """The value with every lazy (translatable) string in it made plain text, for JSON."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return str(value) if isinstance(value, LazyString) else value


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict:
    """Build the JSON error envelope."""
    return {"error": {"code": code, "message": str(message), "details": _plain(details or {})}}


def _flatten_validation(detail: Any) -> dict[str, Any]:
    """Merge APIFlask's {location: {field: [msgs]}} into {field: [msgs]}."""
    if not isinstance(detail, dict):
        return {}
    merged: dict[str, Any] = {}
    for location, fields in detail.items():
        if isinstance(fields, dict):
            merged.update(fields)
        else:
            merged[location] = fields
    return merged


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


# The database cannot be reached or cannot answer now: connection refused or lost, server shutting
# down or starting, pool exhausted (psycopg_pool.PoolTimeout is a psycopg.OperationalError).
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError,
    psycopg.OperationalError,
)
RETRY_AFTER_SECONDS = 5
DATABASE_DOWN_MESSAGE = _l("The service is briefly unavailable: its database cannot be reached. Try again shortly.")


def first_line(error: BaseException) -> str:
    """The driver's own message of a database error (not SQLAlchemy's statement dump), first line only."""
    return str(getattr(error, "orig", None) or error).strip().split("\n", 1)[0]


def database_unavailable(error: BaseException | None) -> bool:
    """Tell whether an exception means the database cannot be reached or cannot answer right now."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(error, DATABASE_ERRORS)


def _http_message(error: HTTPException) -> str:
    """What to say about an HTTP error: the view's own words, else ours for the status, in the request's language."""
    if error.description and error.description != type(error).description:
        return error.description
    ours = {
        400: _("The request is malformed."),
        404: _("There is nothing at this address."),
        405: _("This address does not take that kind of request."),
        413: _("The upload is larger than allowed."),
        415: _("The body is not in a format this address reads."),
    }
    return ours.get(error.code or 500) or error.description or error.name


def _html_error(status: int, message: str):
    template = f"errors/{status}.html" if status in (403, 404) else "errors/generic.html"
    return render_template(template, status=status, message=message), status


def error_codes_markdown() -> str:
    """The registry as a Markdown table, for the API's description."""
    rows = "\n".join(f"| `{code}` | {entry.http_status} | {entry.description} |"
                     for code, entry in sorted(ERROR_CODES.items(), key=lambda item: (item[1].http_status, item[0])))
    return ("Every error answers `{\"error\": {\"code\", \"message\", \"details\"}}`; `code` is one of these "
            "stable codes (check-in refusals included):\n\n| code | HTTP status | meaning |\n| --- | --- | --- |\n"
            + rows)


def document_error_codes(spec: dict) -> dict:
    """List every error code in an OpenAPI document: a table in its description and an ``Error`` schema."""
    info = spec.setdefault("info", {})
    info["description"] = "\n\n".join(filter(None, [info.get("description"), error_codes_markdown()]))
    spec.setdefault("components", {}).setdefault("schemas", {})["Error"] = {
        "type": "object",
        "description": "The envelope of every error answer.",
        "properties": {"error": {"type": "object", "required": ["code", "message", "details"], "properties": {
            "code": {"type": "string", "enum": sorted(ERROR_CODES),
                     "description": "A stable code from the table in the API description."},
            "message": {"type": "string", "description": "For people; may change."},
            "details": {"type": "object", "description": "Per-field problems or the refusal's facts."},
        }}},
    }
    return spec


def register_error_handlers(app: Flask) -> None:
    """Install the handlers: JSON envelope for the API, pages for browsers."""
    from apiflask.exceptions import HTTPError
    from flask_wtf.csrf import CSRFError

    from app.extensions import db, login_manager

    def rollback() -> None:
        # The answer is written in the signed-in user's language: settle it while the user is still loaded, or
        # the first gettext after the rollback reloads the expired user (three more round trips per refusal).
        get_locale()
        # A rollback on a connection the server dropped raises too; drop that connection instead.
        try:
            db.session.rollback()
        except DATABASE_ERRORS:
            db.session.invalidate()

    def handle_database_unavailable(error: Exception):
        log.warning("database unavailable on %s %s: %s", request.method, request.path, first_line(error))
        try:
            # Close the session and invalidate its connection: never hand it to the next request. On a
            # disconnect SQLAlchemy has already marked every older pooled connection stale, so the first
            # request after the database returns opens fresh ones (no pre-ping on the hot path).
            db.session.invalidate()
        except Exception:  # the answer below matters more than a clean close
            log.debug("could not invalidate the session", exc_info=True)
        # Nothing after this may load the user from the database (the 503 page shows no account).
        login_manager._update_request_context_with_user()
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
        message = str(DATABASE_DOWN_MESSAGE)
        if wants_json():
            return error_body("database_unavailable", message), 503, headers
        page = render_template("errors/503.html", status=503, message=message,
                               refresh=RETRY_AFTER_SECONDS if request.method == "GET" else None)
        return page, 503, headers

    for database_error in DATABASE_ERRORS:
        app.register_error_handler(database_error, handle_database_unavailable)

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        rollback()
        if wants_json():
            return error_body(error.code, error.message, error.details), error.http_status
        if error.http_status in (401, 403, 404):
            return _html_error(error.http_status, error.message)
        flash(error.message, "error")
        return redirect(safe_next(request.referrer, "/", host=request.host))

    @app.errorhandler(HTTPError)
    def handle_apiflask_error(error: HTTPError):
        rollback()
        status = error.status_code
        if status == 422:
            body = error_body(
                "validation_failed", _("Some fields are not valid."), _flatten_validation(error.detail)
            )
        else:
            body = error_body(
                _HTTP_CODES.get(status, "error"),
                error.message or _("Request failed."),
                error.detail if isinstance(error.detail, dict) else {},
            )
        return body, status, error.headers

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        rollback()
        if wants_json():
            return error_body("csrf_failed", _("The request came without a valid X-CSRFToken header."),
                              {"reason": error.description}), 400
        if error.description == "The CSRF token has expired.":  # WTF_CSRF_TIME_LIMIT
            flash(_("This form expired: it was open too long. Please fill it in again."), "error")
        else:
            flash(_("Your session expired or the form was stale. Please try again."), "error")
        return redirect(safe_next(request.referrer, request.path, host=request.host))

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        rollback()
        status = error.code or 500
        if status == 500 and database_unavailable(getattr(error, "original_exception", None)):
            return handle_database_unavailable(error.original_exception)  # raised after the view, e.g. a COMMIT
        if status == 429:
            response = error.get_response()
            headers = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
            body = error_body("rate_limited", _("Too many attempts. Wait and try again."))
            if wants_json():
                return body, 429, headers
            return _html_error(429, body["error"]["message"])[0], 429, headers
        # A 405 names the methods the path does take (RFC 9110).
        allowed = getattr(error, "valid_methods", None)
        headers = {"Allow": ", ".join(allowed)} if status == 405 and allowed else {}
        if wants_json():
            if status == 400 and request.is_json:
                return error_body("malformed_json", _("The request body is not valid JSON.")), 400
            return error_body(_HTTP_CODES.get(status, "error"), _http_message(error)), status, headers
        return _html_error(status, _http_message(error))[0], status, headers

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        if database_unavailable(error):
            return handle_database_unavailable(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        rollback()
        if wants_json():
            return error_body("internal_error", _("Something went wrong on our side.")), 500
        return _html_error(500, _("Something went wrong on our side."))
