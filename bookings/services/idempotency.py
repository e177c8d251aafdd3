"""Idempotency keys: a retried request gets the first answer for 24 hours."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.auth.models import User
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from bookings.errors import IdempotencyKeyReused
from bookings.models import IdempotencyKey

IDEMPOTENCY_TTL = timedelta(hours=24)


def request_fingerprint(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def claim_idempotency_key(actor: User, key: str, fingerprint: str, now: datetime) -> tuple[int, dict] | None:
    """Claim a key for this request, or return the answer already given for it.

    A concurrent request with the same key waits on the row lock until the first commits,
    then gets its answer; if the first rolled back, this one goes ahead instead.

    :raises ValidationFailed: when the key is empty or longer than 200 characters.
    :raises IdempotencyKeyReused: when the key came with a different request.
    :raises Conflict: ``idempotency_key_in_use`` if the first request is somehow still unfinished.
    """
    if not key or len(key) > 200:
        raise ValidationFailed(details={"Idempotency-Key": _("must be 1 to 200 characters.")})
    db.session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == actor.id, IdempotencyKey.key == key,
        IdempotencyKey.created_at < now - IDEMPOTENCY_TTL))
    claimed = db.session.execute(
        pg_insert(IdempotencyKey).values(user_id=actor.id, key=key, request_hash=fingerprint, created_at=now)
        .on_conflict_do_nothing().returning(IdempotencyKey.key)).scalar()
    if claimed is not None:
        return None
    stored = db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.user_id == actor.id, IdempotencyKey.key == key).execution_options(populate_existing=True))
    if stored is None:  # vanished between the two statements (expired and swept): go ahead
        return claim_idempotency_key(actor, key, fingerprint, now)
    if stored.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if stored.status_code is None:
        raise Conflict(_("A request with this Idempotency-Key is still being processed."),
                       code="idempotency_key_in_use")
    return stored.status_code, stored.body or {}


def remember_response(actor: User, key: str, status_code: int, body: dict) -> None:
    """Store the answer for a claimed key, in the same transaction as the work it answers."""
    db.session.execute(update(IdempotencyKey).where(IdempotencyKey.user_id == actor.id, IdempotencyKey.key == key)
                       .values(status_code=status_code, body=body))
