"""Domain errors and the one place that turns any error into a response."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, flash, redirect, render_template, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """An expected failure with a stable code, a message and details."""

    code = "error"
    http_status = 400
    message = "The request could not be completed."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        self.message = message or self.message
        self.code = code or self.code
        self.http_status = http_status or self.http_status
        self.details = details or {}
        super().__init__(self.message)


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    message = "Not found."


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403
    message = "You are not allowed to do that."


class Unauthenticated(DomainError):
    code = "unauthenticated"
    http_status = 401
    message = "Log in or send a bearer token."


class ValidationFailed(DomainError):
    code = "validation_failed"
    http_status = 422
    message = "Some fields are not valid."


class Conflict(DomainError):
    code = "conflict"
    http_status = 409
    message = "That conflicts with the current state."


def wants_json() -> bool:
    """Tell whether the current request should be answered in JSON."""
    if request.path.startswith("/api/") or request.path == "/openapi.json":
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json" and not request.accept_mimetypes["text/html"]


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict:
    """Build the JSON error envelope."""
    return {"error": {"code": code, "message": message, "details": details or {}}}


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


def _html_error(status: int, message: str):
    template = f"errors/{status}.html" if status in (403, 404) else "errors/generic.html"
    return render_template(template, status=status, message=message), status


def register_error_handlers(app: Flask) -> None:
    """Install the handlers: JSON envelope for the API, pages for browsers."""
    from apiflask.exceptions import HTTPError
    from flask_wtf.csrf import CSRFError

    from app.extensions import db

    @app.errorhandler(DomainError)
    def handle_domain_error(error: DomainError):
        db.session.rollback()
        if wants_json():
            return error_body(error.code, error.message, error.details), error.http_status
        if error.http_status in (401, 403, 404):
            return _html_error(error.http_status, error.message)
        flash(error.message, "error")
        return redirect(request.referrer or "/")

    @app.errorhandler(HTTPError)
    def handle_apiflask_error(error: HTTPError):
        db.session.rollback()
        status = error.status_code
        if status == 422:
            body = error_body(
                "validation_failed", "Some fields are not valid.", _flatten_validation(error.detail)
            )
        else:
            body = error_body(
                _HTTP_CODES.get(status, "error"),
                error.message or "Request failed.",
                error.detail if isinstance(error.detail, dict) else {},
            )
        return body, status, error.headers

    @app.errorhandler(CSRFError)
    def handle_csrf_error(error: CSRFError):
        db.session.rollback()
        if wants_json():
            return error_body("csrf_failed", error.description), 400
        flash("Your session expired or the form was stale. Please try again.", "error")
        return redirect(request.referrer or request.path)

    @app.errorhandler(HTTPException)
    def handle_http_exception(error: HTTPException):
        db.session.rollback()
        status = error.code or 500
        if status == 429:
            response = error.get_response()
            headers = {k: v for k, v in response.headers.items() if k.lower() == "retry-after"}
            body = error_body("rate_limited", "Too many attempts. Wait and try again.")
            if wants_json():
                return body, 429, headers
            return _html_error(429, body["error"]["message"])[0], 429, headers
        if wants_json():
            if status == 400 and request.is_json:
                return error_body("malformed_json", "The request body is not valid JSON."), 400
            return error_body(_HTTP_CODES.get(status, "error"), error.description or error.name), status
        return _html_error(status, error.description or error.name)

    @app.errorhandler(Exception)
    def handle_unexpected(error: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        db.session.rollback()
        if wants_json():
            return error_body("internal_error", "Something went wrong on our side."), 500
        return _html_error(500, "Something went wrong on our side.")
