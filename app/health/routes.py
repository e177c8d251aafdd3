"""/healthz (the process answers) and /readyz (it can serve: database, migrations, Redis)."""

from __future__ import annotations

from flask import Blueprint, current_app

from app.errors import RETRY_AFTER_SECONDS
from app.extensions import csrf, limiter
from app.health import services

bp = Blueprint("health", __name__)
# Probes come often and from one address, and never write.
limiter.exempt(bp)
csrf.exempt(bp)
NO_STORE = {"Cache-Control": "no-store"}


@bp.get("/healthz")
def healthz():
    """Liveness: the process answers; nothing else is asked (no database)."""
    return {"status": "ok"}, 200, NO_STORE


@bp.get("/readyz")
def readyz():
    """Readiness: 200 when every check passes, else 503 naming the checks that failed."""
    heads = services.migration_heads(current_app.extensions["migrate"].directory)
    checks = services.readiness(heads, current_app.config.get("REDIS_URL"))
    failed = sorted(name for name, check in checks.items() if not check["ok"])
    if failed:
        return ({"status": "unavailable", "failed": failed, "checks": checks}, 503,
                {**NO_STORE, "Retry-After": str(RETRY_AFTER_SECONDS)})
    return {"status": "ready", "checks": checks}, 200, NO_STORE
