"""Make the OpenAPI document say what the API does, and make the API do what the document says.

APIFlask's document leaves out what happens before a view runs (malformed JSON, a body that is not JSON,
rate limits, the server's URL limit), states Decimal bounds as strings, and describes errors with its own
``HTTPError`` shape rather than the envelope the app answers with. ``complete_spec`` fills those in; the
request check ``refuse_bodies_not_json`` enforces the content type and the ``requestBody.required`` stated.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from flask import Flask, abort, current_app, request

from app.errors import ValidationFailed
from app.ratelimits import limited

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# PostgreSQL text cannot hold NUL; strings that carry one are refused (422) before any view runs.
# (Unpaired surrogates are refused too: no JSON Schema pattern can name them, and I-JSON forbids them.)
TEXT_PATTERN = r"^[^\u0000]*$"
_PLACEHOLDER = re.compile(r"<(?:[^<>:]+:)?([^<>]+)>")
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")

_ERROR = {"$ref": "#/components/schemas/Error"}
# Answers that can come before any view runs, shared by the operations they apply to.
RESPONSES: dict[str, dict[str, Any]] = {
    "MalformedJson": {"description": "`malformed_json`: the body is not valid JSON.",
                      "content": {"application/json": {"schema": _ERROR}}},
    "PayloadTooLarge": {"description": "`payload_too_large`: the body is larger than the server accepts.",
                        "content": {"application/json": {"schema": _ERROR}}},
    "UnsupportedMediaType": {"description": "`unsupported_media_type`: the body is not `application/json`.",
                             "content": {"application/json": {"schema": _ERROR}}},
    "RateLimited": {"description": "`rate_limited`: too many attempts; wait for `Retry-After` seconds.",
                    "headers": {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}},
                    "content": {"application/json": {"schema": _ERROR}}},
    "UriTooLong": {"description": "The request line is longer than the server reads (4 KB): the HTTP server "
                                  "answers before the app, with a short HTML page.",
                   "content": {"text/html": {"schema": {"type": "string"}}}},
}


def spec_path(rule: str) -> str:
    """``/api/v1/bookings/<int:booking_id>`` as OpenAPI writes it: ``/api/v1/bookings/{booking_id}``."""
    return _PLACEHOLDER.sub(r"{\1}", rule)


def _views(app: Flask) -> dict[tuple[str, str], Callable]:
    """Every (OpenAPI path, lower-case method) the app routes, with its view function."""
    views = {}
    for rule in app.url_map.iter_rules():
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            views[(spec_path(rule.rule), method.lower())] = app.view_functions[rule.endpoint]
    return views


def body_schema(view: Callable | None):
    """The marshmallow schema a view reads its JSON body with, or None."""
    return (getattr(view, "_spec", None) or {}).get("body")


def body_required(view: Callable | None, method: str) -> bool:
    """Whether a request must carry a body: PUT and PATCH always, POST when a field of it is required.

    A POST whose every field is optional (a cancel's reason, a waitlist's party size) may come with none.
    """
    schema = body_schema(view)
    if schema is None:
        return False
    if method.upper() in ("PUT", "PATCH"):
        return True
    fields = getattr(schema, "fields", None)
    return fields is None or any(field.required for field in fields.values())


def _numeric_bounds(node: Any) -> None:
    """Bounds apispec copied from Decimal validators (JSON strings: "99999999.00") become numbers."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _BOUNDS and isinstance(value, (str, Decimal)):
                number = float(value)
                node[key] = int(number) if number.is_integer() else number
            else:
                _numeric_bounds(value)
    elif isinstance(node, list):
        for item in node:
            _numeric_bounds(item)


def _schemas_in(node: Any, components: dict, seen: set[str]) -> Iterator[dict]:
    """Every schema object inside ``node``, following $refs into components once."""
    if isinstance(node, list):
        for item in node:
            yield from _schemas_in(item, components, seen)
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            yield from _schemas_in(components.get(name), components, seen)
        return
    yield node
    for key in ("properties", "patternProperties", "$defs"):
        for child in (node.get(key) or {}).values():
            yield from _schemas_in(child, components, seen)
    for key in ("items", "additionalProperties", "not"):
        yield from _schemas_in(node.get(key), components, seen)
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        yield from _schemas_in(node.get(key), components, seen)


def _is_free_text(schema: dict) -> bool:
    types = schema.get("type")
    return ("string" == types or (isinstance(types, list) and "string" in types)) \
        and not any(key in schema for key in ("enum", "const", "format", "pattern"))


def _say_text_holds_no_nul(operation: dict, components: dict, seen: set[str]) -> None:
    """Free-text request strings (parameters and bodies) state that they cannot hold NUL."""
    roots = [parameter.get("schema") for parameter in operation.get("parameters", [])]
    roots += [media.get("schema") for media in operation.get("requestBody", {}).get("content", {}).values()]
    for schema in _schemas_in(roots, components, seen):
        if _is_free_text(schema):
            schema["pattern"] = TEXT_PATTERN


def _use_the_error_envelope(spec: dict) -> None:
    """Error answers are the app's envelope (``Error``), not APIFlask's ``HTTPError``/``ValidationError``."""
    schemas = spec["components"]["schemas"]
    for name in ("HTTPError", "ValidationError"):
        schemas.pop(name, None)

    def point(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("$ref") in ("#/components/schemas/HTTPError", "#/components/schemas/ValidationError"):
                node["$ref"] = "#/components/schemas/Error"
            for value in node.values():
                point(value)
        elif isinstance(node, list):
            for item in node:
                point(item)

    point(spec["paths"])
    schemas["Error"]["required"] = ["error"]


def _schema_rules(views: dict[tuple[str, str], Callable], schemas: dict) -> None:
    """Add a body schema's ``OPENAPI`` class attribute (rules between fields) to its component."""
    from marshmallow import fields

    pending = [body_schema(view) for view in views.values()]
    done: set[type] = set()
    while pending:
        schema = pending.pop()
        if schema is None or type(schema) in done or not hasattr(schema, "fields"):
            continue
        done.add(type(schema))
        for field in schema.fields.values():
            inner = getattr(field, "inner", field)  # List(Nested(...))
            if isinstance(inner, fields.Nested) and not isinstance(inner.nested, (str, dict)):
                pending.append(inner.schema)
        rules = getattr(type(schema), "OPENAPI", None)
        name = type(schema).__name__.removesuffix("Schema")
        for component in (name, f"{name}Update"):
            if rules and component in schemas:
                schemas[component].update(rules)


def complete_spec(spec: dict, app: Flask) -> dict:
    """Add what APIFlask leaves out of the document (see the module's docstring)."""
    _numeric_bounds(spec)
    _use_the_error_envelope(spec)
    components = spec.setdefault("components", {})
    components.setdefault("responses", {}).update(RESPONSES)
    views = _views(app)
    _schema_rules(views, components.get("schemas", {}))
    seen: set[str] = set()
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or method not in ("get", "put", "post", "patch", "delete"):
                continue
            view = views.get((path, method))
            responses = operation.setdefault("responses", {})
            extra = {"414": "UriTooLong"}
            if "requestBody" in operation:
                operation["requestBody"]["required"] = body_required(view, method)
                extra.update({"400": "MalformedJson", "413": "PayloadTooLarge", "415": "UnsupportedMediaType"})
            if view is not None and limited(app, view):
                extra["429"] = "RateLimited"
            for status, name in extra.items():
                responses.setdefault(status, {"$ref": f"#/components/responses/{name}"})
            _say_text_holds_no_nul(operation, components.get("schemas", {}), seen)
    return spec


def body_content_type(view: Callable | None) -> str:
    """The content type a view reads its body in: application/json, or multipart/form-data for uploads."""
    return (getattr(view, "_spec", None) or {}).get("content_type") or "application/json"


def refuse_bodies_not_json() -> None:
    """Before a view that reads a JSON body (or a multipart one: uploads): 415 for any other content type,
    422 for a body missing.

    Without it such a request would be read as ``{}``: a PATCH without a body answered 200 and changed nothing.
    """
    if request.method not in BODY_METHODS:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if body_schema(view) is None:
        return
    wanted = body_content_type(view)
    if request.is_json if wanted == "application/json" else request.mimetype == wanted:
        return
    sent = bool(request.content_length) or "Transfer-Encoding" in request.headers or bool(request.mimetype)
    if sent:
        abort(415, description=f"Send the body as {wanted}.")
    if body_required(view, request.method):
        raise ValidationFailed("Send a JSON body.", details={"body": ["A JSON body is required."]})
