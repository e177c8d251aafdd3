"""Readiness checks: the database answers, its schema is at the migrations' head, Redis answers."""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path
from typing import Any

from app.errors import database_unavailable, first_line
from app.extensions import db

log = logging.getLogger(__name__)
PROBE_TIMEOUT_SECONDS = 2


@lru_cache(maxsize=4)
def migration_heads(directory: str) -> tuple[str, ...]:
    """The head revisions of the migration scripts in ``directory`` (read once: new code restarts the process)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config(str(Path(directory) / "alembic.ini"))
    config.set_main_option("script_location", directory)
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def _applied_revisions() -> tuple[str, ...] | None:
    """The revisions recorded in the database (None: never migrated), in one short transaction."""
    with db.engine.connect() as connection:
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = '{PROBE_TIMEOUT_SECONDS}s'")
        if connection.exec_driver_sql("SELECT to_regclass('alembic_version')").scalar() is None:
            return None
        return tuple(sorted(connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars()))


def check_database(heads: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """Check that the database answers and that its schema is at ``heads``."""
    for attempt in (1, 2):
        try:
            applied = _applied_revisions()
            break
        except Exception as error:
            # A pooled connection the server dropped fails once and marks the pool stale; the probe is
            # read-only, so ask once more on a fresh connection before calling the database down.
            if attempt == 1 and getattr(error, "connection_invalidated", False):
                continue
            log.warning("readiness: database check failed: %s", first_line(error))
            reason = "unreachable" if database_unavailable(error) else "query_failed"
            return {"database": {"ok": False, "error": reason}}  # migrations: unknowable now
    migrations: dict[str, Any] = {"ok": applied == heads, "revision": list(applied or ()), "head": list(heads)}
    if not migrations["ok"]:
        migrations["error"] = "not_migrated" if applied is None else "not_at_head"
    return {"database": {"ok": True}, "migrations": migrations}


def check_redis(url: str) -> dict[str, Any]:
    """Check that the Redis at ``url`` answers PING."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_SECONDS,
                                  socket_connect_timeout=PROBE_TIMEOUT_SECONDS)
    try:
        client.ping()
    except (redis.RedisError, OSError) as error:
        log.warning("readiness: redis check failed: %s", first_line(error))
        return {"ok": False, "error": "unreachable"}
    finally:
        client.close()
    return {"ok": True}


def readiness(heads: tuple[str, ...], redis_url: str | None) -> dict[str, dict[str, Any]]:
    """Run every check; each answers ``{"ok": bool, ...}``. Redis only when one is configured."""
    checks = check_database(heads)
    if redis_url:
        checks["redis"] = check_redis(redis_url)
    return checks
