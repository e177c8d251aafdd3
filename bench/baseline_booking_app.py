"""The hand-written baseline for bench/booking_burst.py: one Flask route, one transaction.

It does what ``POST /api/v1/bookings`` must do at the least, and nothing else: find the
caller by one indexed lookup of the bearer token's SHA-256 (as the app does), take a seat
with the single conditional UPDATE (capacity and the CHECK in the database decide), insert
the booking row with the same columns the app fills, commit. No ORM, no schema library, no
audit row, no notifications, no idempotency keys. Served by gunicorn from booking_burst.py:

    BASELINE_DATABASE_URL=postgresql://... gunicorn --chdir bench --workers 2 baseline_booking_app:app
"""

from __future__ import annotations

import hashlib
import os
import secrets

from flask import Flask, jsonify, request
from psycopg import errors
from psycopg_pool import ConnectionPool

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

AUTH_SQL = """
SELECT u.id FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.token_hash = %s AND t.revoked_at IS NULL AND t.expires_at > now() AND u.is_active_account
"""

TAKE_SQL = """
UPDATE slots SET seats_taken = seats_taken + %(n)s
WHERE id = %(slot)s AND seats_taken + %(n)s <= capacity AND status = 'open' AND starts_at > now()
RETURNING offering_id, starts_at
"""

INSERT_SQL = """
INSERT INTO bookings (slot_id, offering_id, store_id, resident_id, starts_at, party_size, note, status,
                      payment_status, unit_price, currency, price_due, code, is_late_cancel)
SELECT %(slot)s, o.id, o.store_id, %(resident)s, %(starts_at)s, %(n)s, %(note)s, 'confirmed',
       'unpaid', o.price_amount, o.currency, o.price_amount * %(n)s, %(code)s, false
FROM offerings o WHERE o.id = %(offering)s
RETURNING id, status, price_due, currency, code
"""

app = Flask(__name__)
_pool: ConnectionPool | None = None


def _conninfo() -> str:
    url = os.environ.get("BASELINE_DATABASE_URL") or os.environ["DATABASE_URL"]
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def pool() -> ConnectionPool:
    """One pool per worker process, opened on first use (after gunicorn forks)."""
    global _pool
    if _pool is None:
        _pool = ConnectionPool(_conninfo(), min_size=1, max_size=2, open=True, kwargs={"options": "-c jit=off"})
    return _pool


def _error(code: str, status: int):
    return jsonify({"error": {"code": code}}), status


@app.get("/health")
def health():
    with pool().connection() as conn:
        conn.execute("SELECT 1")
    return {"ok": True}


@app.post("/bookings")
def book():
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _error("unauthenticated", 401)
    body = request.get_json(silent=True) or {}
    slot_id, party = body.get("slot_id"), body.get("party_size", 1)
    note = body.get("note") or ""
    if not isinstance(slot_id, int) or not isinstance(party, int) or not 1 <= party <= 50:
        return _error("validation_failed", 422)
    digest = hashlib.sha256(token.strip().encode()).hexdigest()
    with pool().connection() as conn:  # one transaction: committed on exit, rolled back on an exception
        user = conn.execute(AUTH_SQL, (digest,)).fetchone()
        if user is None:
            return _error("unauthenticated", 401)
        taken = conn.execute(TAKE_SQL, {"n": party, "slot": slot_id}).fetchone()
        if taken is None:
            conn.rollback()
            return _error("slot_full", 409)
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        try:
            row = conn.execute(INSERT_SQL, {"slot": slot_id, "resident": user[0], "starts_at": taken[1], "n": party,
                                            "note": note, "code": code, "offering": taken[0]}).fetchone()
        except errors.UniqueViolation as exc:
            conn.rollback()
            if exc.diag.constraint_name == "ux_bookings_active_per_resident":
                return _error("already_booked", 409)
            return _error("code_collision", 409)
    return jsonify({"id": row[0], "status": row[1], "slot_id": slot_id, "party_size": party,
                    "price_due_at_store": {"amount": f"{row[2]:.2f}", "currency": row[3]}, "code": row[4]}), 201
