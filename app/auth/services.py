"""Account verbs: register, authenticate, tokens, admin creation."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import select

from app import clock
from app.auth.models import ApiToken, Role, User
from app.errors import Conflict, Unauthenticated, ValidationFailed
from app.extensions import db

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_PASSWORD = 8
MAX_PASSWORD = 256
SELF_SERVICE_ROLES = (Role.RESIDENT, Role.MERCHANT)
# A real hash to compare against when the e-mail is unknown, so timing does not reveal accounts.
_DUMMY_HASH: dict[tuple[int, int], str] = {}


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(time_cost=config["ARGON2_TIME_COST"], memory_cost=config["ARGON2_MEMORY_COST"])


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher().hash(password)


def verify_password(user: User | None, password: str) -> bool:
    """Check a password, spending the same time when the user is unknown."""
    hasher = _hasher()
    if user is None:
        key = (hasher.time_cost, hasher.memory_cost)
        if key not in _DUMMY_HASH:
            _DUMMY_HASH[key] = hasher.hash(secrets.token_hex(8))
        try:
            hasher.verify(_DUMMY_HASH[key], password)
        except VerificationError:
            pass
        return False
    try:
        return hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def validate_account_fields(email: str, password: str, display_name: str) -> dict[str, str]:
    """Return per-field problems with new-account input."""
    errors: dict[str, str] = {}
    if not EMAIL_RE.match(normalise_email(email)) or len(email) > 254:
        errors["email"] = "Enter a valid e-mail address."
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        errors["password"] = f"Use {MIN_PASSWORD} to {MAX_PASSWORD} characters."
    name = (display_name or "").strip()
    if not 1 <= len(name) <= 80:
        errors["display_name"] = "Enter a name of 1 to 80 characters."
    return errors


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(email: str, password: str, display_name: str, role: str = Role.RESIDENT) -> User:
    """Create an account.

    :raises ValidationFailed: on bad fields or a role that cannot be chosen.
    :raises Conflict: ``email_taken`` when the address already has an account.
    """
    errors = validate_account_fields(email, password, display_name)
    if role not in SELF_SERVICE_ROLES:
        errors["role"] = "Choose resident or merchant."
    if errors:
        raise ValidationFailed(details=errors)
    if find_user_by_email(email) is not None:
        raise Conflict("An account with this e-mail already exists.", code="email_taken",
                       details={"email": "Already registered."})
    user = User(
        email=normalise_email(email),
        password_hash=hash_password(password),
        display_name=display_name.strip(),
        role=role,
    )
    db.session.add(user)
    db.session.flush()
    return user


def authenticate(email: str, password: str) -> User:
    """Return the active user with these credentials.

    :raises Unauthenticated: ``invalid_credentials`` otherwise.
    """
    user = find_user_by_email(email or "")
    if not verify_password(user, password or "") or user is None or not user.is_active:
        raise Unauthenticated("E-mail or password is wrong.", code="invalid_credentials")
    user.last_login_at = clock.now()
    return user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User) -> str:
    """Create a bearer token for the user and return it (shown once)."""
    raw = "ons_" + secrets.token_urlsafe(32)
    days = current_app.config["API_TOKEN_DAYS"]
    db.session.add(ApiToken(user=user, token_hash=_digest(raw),
                            expires_at=clock.now() + timedelta(days=days)))
    db.session.flush()
    return raw


def user_for_token(raw: str) -> User | None:
    """Return the active user a valid, unexpired bearer token belongs to."""
    if not raw or len(raw) > 200:
        return None
    # One round trip: every API request pays for this.
    return db.session.scalar(
        select(User).join(ApiToken, ApiToken.user_id == User.id).where(
            ApiToken.token_hash == _digest(raw),
            ApiToken.revoked_at.is_(None),
            ApiToken.expires_at > clock.now(),
            User.is_active_account.is_(True),
        )
    )


def create_admin(email: str, password: str, display_name: str = "Admin") -> User:
    """Create a platform admin, or promote an existing account.

    :raises ValidationFailed: on bad fields.
    """
    errors = validate_account_fields(email, password, display_name)
    if errors:
        raise ValidationFailed(details=errors)
    existing = find_user_by_email(email)
    if existing is not None:
        existing.role = Role.ADMIN
        existing.password_hash = hash_password(password)
        return existing
    user = User(email=normalise_email(email), password_hash=hash_password(password),
                display_name=display_name, role=Role.ADMIN)
    db.session.add(user)
    db.session.flush()
    return user
