"""Which endpoints a rate limit can touch, and Flask-Limiter's hooks only where one can (floor 1).

Flask-Limiter runs a before, an after and a teardown hook on every request; on an endpoint no limit applies to
they find nothing to count, and still cost about 60 µs of a 0.7 ms nearby search. They keep running wherever
a limit may apply (a decorated or shared limit, a hint, a blueprint's, a default or application-wide one).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from flask import Flask, request
from flask_limiter.util import get_qualified_name

from app.extensions import limiter


def limited(app: Flask, view: Callable) -> bool:
    """Whether Flask-Limiter may answer 429 for this view (a decorated limit, or a default for all)."""
    manager = limiter.limit_manager
    return (get_qualified_name(view) in limiter._marked_for_limiting
            or bool(manager._default_limits or manager._application_limits))


def _may_limit(app: Flask, endpoint: str) -> bool:
    """Whether any limit can apply to a request for ``endpoint``: ``limited``, or a hint, a blueprint's limit,
    a meta limit or in-memory fallback limits."""
    view = app.view_functions.get(endpoint)
    if view is None or limited(app, view):
        return True
    manager = limiter.limit_manager
    blueprints = endpoint.split(".")[:-1]  # a nested blueprint's endpoint names its parents too
    return bool(manager.has_hints(endpoint) or limiter._meta_limits or limiter._in_memory_fallback
                or any(manager._blueprint_limits.get(name) for name in blueprints))


def run_limiter_where_it_may_limit(app: Flask) -> None:
    """Wrap Flask-Limiter's hooks (registered by ``limiter.init_app``) so they run only for endpoints a limit can
    touch, and for requests no endpoint matched; which endpoints is decided once each, at its first request."""
    may: dict[str, bool] = {}

    def applies() -> bool:
        endpoint = request.endpoint
        if endpoint is None:
            return True
        if endpoint not in may:
            may[endpoint] = _may_limit(app, endpoint)
        return may[endpoint]

    def guarded(hook: Callable, passthrough: bool) -> Callable:
        def hook_where_it_may_limit(*args: Any) -> Any:
            if applies():
                return hook(*args)
            return args[0] if passthrough else None  # an after_request hook hands the response on

        return hook_where_it_may_limit

    def ours(hook: Any) -> bool:  # limiter's bound methods, and partial(Limiter.__inject_headers, limiter)
        return getattr(hook, "__self__", None) is limiter or (isinstance(hook, partial) and hook.args[:1] == (limiter,))

    found = 0
    for hooks, passthrough in ((app.before_request_funcs, False), (app.after_request_funcs, True),
                               (app.teardown_request_funcs, False)):
        functions = hooks.get(None, [])
        for index, hook in enumerate(functions):
            if ours(hook):
                functions[index] = guarded(hook, passthrough)
                found += 1
    if found != 3:  # a Flask-Limiter that hooks in differently: leave it whole rather than half-guarded
        raise RuntimeError(f"expected Flask-Limiter's 3 request hooks, found {found}")
