"""The Onsite web application."""

from __future__ import annotations

import logging
from collections.abc import Callable
from inspect import CO_COROUTINE
from typing import Any

from apiflask import APIFlask
from flask import Flask

from app.config import ROOT, Config


class OnsiteFlask(APIFlask):
    """APIFlask, with a cheaper ``ensure_sync``: Flask asks it of every hook and view, some twenty times a request,
    and ``inspect.iscoroutinefunction`` unwraps each one to find out; a plain function's own code answers."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        code = getattr(func, "__code__", None)  # a function's, or a bound method's function's
        if code is not None and not code.co_flags & CO_COROUTINE and not hasattr(func, "_is_coroutine_marker"):
            return func
        return super().ensure_sync(func)


def create_app(config: object | None = None) -> Flask:
    """Build the app: settings, extensions, blueprints. Never migrates."""
    app = OnsiteFlask(
        __name__,
        title="Onsite API",
        version="1.0",
        json_errors=False,
        docs_path="/docs",
        spec_path="/openapi.json",
        template_folder=str(ROOT / "templates"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.from_object(config if config is not None else Config())
    if app.config.get("TRUSTED_PROXY_HOPS"):
        # Believe that many proxies' X-Forwarded-For/-Proto/-Host (the rightmost entries, the ones they
        # appended): remote_addr, which rate limits count on, and request.is_secure come from them.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    if app.config.get("CLOCK_OFFSET_SECONDS") is not None:
        from app import clock

        clock.set_offset(app.config["CLOCK_OFFSET_SECONDS"])
    logging.basicConfig(level=app.config.get("LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from geoalchemy2 import alembic_helpers

    from app.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(ROOT / "migrations"), compare_type=True,
        include_object=alembic_helpers.include_object, render_item=alembic_helpers.render_item,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    from app.ratelimits import run_limiter_where_it_may_limit

    run_limiter_where_it_may_limit(app)
    from app.i18n import babel_locale, init_i18n

    babel.init_app(app, locale_selector=babel_locale)
    init_i18n(app)

    from app.auth.security import init_security
    from app.errors import register_error_handlers

    init_security(app)
    register_error_handlers(app)

    from app import web
    from app.auth import api as auth_api
    from app.auth import routes as auth_routes
    from app.discovery import api as discovery_api
    from app.discovery import routes as discovery_routes
    from app.health import routes as health_routes
    from app.insights import routes as insights_routes
    from app.media import api as media_api
    from app.media import routes as media_routes
    from app.merchants import api as merchants_api
    from app.merchants import routes as merchants_routes
    from app.offerings import api as offerings_api
    from app.offerings import routes as offerings_routes
    from bookings import api as bookings_api
    from bookings import routes as bookings_routes
    from trust.api import disputes as disputes_api
    from trust.api import reviews as reviews_api
    from trust.routes import disputes as disputes_routes
    from trust.routes import reviews as reviews_routes

    web.init_web(app)
    for module in (health_routes, auth_routes, discovery_routes, merchants_routes, offerings_routes, bookings_routes,
                   media_routes, auth_api, merchants_api, discovery_api, offerings_api, bookings_api, media_api,
                   reviews_routes, reviews_api, insights_routes,
                   disputes_routes, disputes_api):
        app.register_blueprint(module.bp)
    media_routes.init_media(app)
    from trust.api import integrity as integrity_api  # the integrity score: public JSON, and the pages' globals
    from trust.routes import integrity as integrity_routes

    for module in (integrity_routes, integrity_api):
        app.register_blueprint(module.bp)
    from app.admin import api as admin_api  # the operator's console
    from app.admin import routes as admin_routes

    for module in (admin_routes, admin_api):
        app.register_blueprint(module.bp)
    from app.conversations import api as conversations_api  # threads, messages and their live stream
    from app.conversations import routes as conversations_routes

    for module in (conversations_routes, conversations_api):
        app.register_blueprint(module.bp)
    from app.favourites import api as favourites_api  # saved experiences and followed stores
    from app.favourites import routes as favourites_routes

    for module in (favourites_routes, favourites_api):
        app.register_blueprint(module.bp)
    from app.insights import api as insights_api  # the demand radar in JSON (a store's, the city's)

    app.register_blueprint(insights_api.bp)
    from trust.api import audits as audits_api
    from trust.routes import audits as audits_routes  # the auditor's mystery-shopper audits

    for module in (audits_routes, audits_api):
        app.register_blueprint(module.bp)

    from app.discovery.services import GridRefresher, SearchLogBuffer

    app.extensions["search_log"] = SearchLogBuffer(
        lambda: _engine(app), interval=app.config["SEARCH_LOG_FLUSH_SECONDS"])
    app.extensions["grid_refresher"] = GridRefresher(
        lambda: _engine(app), interval=app.config["GRID_REFRESH_SECONDS"])

    from app.cli import register_cli

    register_cli(app)
    return app


def _engine(app: Flask):
    from app.extensions import db

    with app.app_context():
        return db.engine
