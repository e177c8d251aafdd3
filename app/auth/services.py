"""Account verbs: register, authenticate (with the per-account lock), login sessions, remember-me and API
tokens, log out everywhere, password changes, admin creation."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from app import clock, statements
from app.auth.models import ApiToken, LoginSession, RememberToken, Role, User
from app.auth.passwords import password_problem
from app.errors import Unauthenticated, ValidationFailed
from app.extensions import db
from app.i18n import format_when, in_locale_of, normalise
from app.statements import Numbered, adopt, loaded_columns, numbered
from bookings.services import notify_account

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
SELF_SERVICE_ROLES = (Role.RESIDENT, Role.MERCHANT)
WRONG_CREDENTIALS = _l("E-mail or password is wrong.")
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
    """Return per-field problems with new-account input, the password's rules included."""
    errors: dict[str, str] = {}
    if not EMAIL_RE.match(normalise_email(email)) or len(email) > 254:
        errors["email"] = _("Enter a valid e-mail address.")
    problem = password_problem(password, normalise_email(email), display_name)
    if problem:
        errors["password"] = problem
    name = (display_name or "").strip()
    if not 1 <= len(name) <= 80:
        errors["display_name"] = _("Enter a name of 1 to 80 characters.")
    return errors


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def register_user(email: str, password: str, display_name: str, role: str = Role.RESIDENT,
                  locale: str | None = None) -> User | None:
    """Create an account, or tell the owner of an existing one that someone tried.

    Either way an e-mail goes to the address and the same time is spent (a password is hashed), so the
    caller can answer alike and reveal nothing. Returns the new user, or None when the address was taken.
    ``locale`` (the language the person signed up in) becomes the new account's language.

    :raises ValidationFailed: on bad fields (a weak password included) or a role that cannot be chosen.
    """
    errors = validate_account_fields(email, password, display_name)
    if role not in SELF_SERVICE_ROLES:
        errors["role"] = _("Choose resident or merchant.")
    if errors:
        raise ValidationFailed(details=errors)
    user = User(email=normalise_email(email), password_hash=hash_password(password),
                display_name=display_name.strip(), role=role, locale=normalise(locale))
    existing = find_user_by_email(email)
    if existing is None:
        try:
            with db.session.begin_nested():
                db.session.add(user)
                db.session.flush()
        except IntegrityError as exc:  # a concurrent sign-up took the address between the read and the insert
            if getattr(exc.orig.diag, "constraint_name", None) != "uq_users_email":
                raise
            existing = find_user_by_email(email)
    if existing is not None:
        with in_locale_of(existing):
            notify_account(existing, "signup_attempt", _("Someone tried to sign up with your e-mail"),
                           _("Someone tried to sign up for Onsite with %(email)s, which already has an account: "
                             "yours. Nothing was changed. If it was you, log in instead. If not, you can ignore "
                             "this message.", email=existing.email))
        return None
    with in_locale_of(user):
        notify_account(user, "welcome", _("Welcome to Onsite"),
                       _("Your Onsite account for %(email)s is ready: log in with the password you chose.",
                         email=user.email))
    return user


def _wrong_credentials() -> Unauthenticated:
    return Unauthenticated(WRONG_CREDENTIALS, code="invalid_credentials")


def authenticate(email: str, password: str) -> User:
    """Return the active user with these credentials, counting wrong passwords toward the account's lock.

    An unknown, disabled or locked account is refused exactly like a wrong password, after the same work
    (one password hash checked), so the answer reveals nothing. The caller commits in both cases.

    :raises Unauthenticated: ``invalid_credentials`` otherwise.
    """
    user = find_user_by_email(email or "")
    good = verify_password(user, password or "")
    if user is None or not user.is_active:
        raise _wrong_credentials()
    # Lock the row after the slow hash: parallel guesses are counted one by one, and a guess that was
    # right but arrives after the lock began is refused too.
    user = db.session.scalar(select(User).where(User.id == user.id).with_for_update()
                             .execution_options(populate_existing=True))
    now = clock.now()
    if user.locked_until is not None and user.locked_until > now:
        raise _wrong_credentials()
    if not good:
        _count_wrong_password(user, now)
        raise _wrong_credentials()
    user.failed_logins, user.lockouts, user.locked_until, user.last_login_at = 0, 0, None, now
    return user


def _count_wrong_password(user: User, now: datetime) -> None:
    """Count a wrong password; the Nth in a row within the window locks the account (twice as long each time)."""
    config = current_app.config
    if user.last_failed_login_at is None or \
            now - user.last_failed_login_at > timedelta(seconds=config["LOGIN_FAILURE_WINDOW_SECONDS"]):
        user.failed_logins = 0
    if user.locked_until is not None and now - user.locked_until > timedelta(days=1):
        user.lockouts = 0  # the last lock is long past: start short again
    user.failed_logins += 1
    user.last_failed_login_at = now
    if user.failed_logins < config["LOGIN_FAILURES_BEFORE_LOCK"]:
        return
    seconds = min(config["LOGIN_LOCK_SECONDS"] * 2 ** min(user.lockouts, 20), config["LOGIN_LOCK_MAX_SECONDS"])
    user.locked_until = now + timedelta(seconds=seconds)
    user.lockouts = min(user.lockouts + 1, 100)
    wrong, user.failed_logins = user.failed_logins, 0
    minutes = max(1, round(seconds / 60))
    with in_locale_of(user):
        notify_account(user, "account_locked", _("Your account is locked for a while"), ngettext(
            "Someone entered %(wrong)d wrong passwords in a row for your Onsite account, so logging in is "
            "paused for %(num)d minute (until %(until)s UTC). If it was you, wait and try again. If it was not, "
            "your password held; a longer one that you use nowhere else keeps it that way.",
            "Someone entered %(wrong)d wrong passwords in a row for your Onsite account, so logging in is "
            "paused for %(num)d minutes (until %(until)s UTC). If it was you, wait and try again. If it was "
            "not, your password held; a longer one that you use nowhere else keeps it that way.",
            minutes, wrong=wrong, until=format_when(user.locked_until, "UTC", "time")))


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


_TOKEN_USER: list[Numbered] = []


def user_for_token(raw: str) -> User | None:
    """Return the active user a valid, unexpired bearer token belongs to."""
    if not raw or len(raw) > 200:
        return None
    # One round trip, and no ORM load: every API request pays for this. Outside any transaction (alone), so a
    # request whose work is one statement (a booking) needs no BEGIN and COMMIT.
    if not _TOKEN_USER:
        _TOKEN_USER.append(numbered(
            select(*loaded_columns(User)).join(ApiToken, ApiToken.user_id == User.id).where(
                ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None),
                ApiToken.expires_at > bindparam("now"), User.is_active_account.is_(True))))
    statement = _TOKEN_USER[0]
    rows = statements.alone(statement.sql, statement.values({"digest": _digest(raw), "now": clock.now()}))
    return adopt(User, rows[0]) if rows else None


# -- cookie logins ------------------------------------------------------------------------------------

def start_login_session(user: User) -> str:
    """Record a new browser login and return its key (kept in the signed session cookie, digest here)."""
    raw = secrets.token_urlsafe(32)
    db.session.add(LoginSession(user_id=user.id, key_hash=_digest(raw)))
    db.session.flush()
    return raw


def user_for_session(user_id: int, key: str, epoch: object) -> User | None:
    """Return the user of a live login session with this key, begun in the account's current epoch."""
    # One round trip, as the plain user load it replaces: every logged-in request pays for this.
    user = db.session.scalar(
        select(User).join(LoginSession, LoginSession.user_id == User.id).where(
            User.id == user_id, LoginSession.key_hash == _digest(key or ""), LoginSession.ended_at.is_(None)))
    return user if user is not None and user.session_epoch == epoch else None


def end_login(session_key: str | None, remember_token: str | None) -> None:
    """Log one browser out: end its login session and revoke its remember-me token."""
    now = clock.now()
    if session_key:
        db.session.execute(update(LoginSession).where(LoginSession.key_hash == _digest(session_key),
                                                      LoginSession.ended_at.is_(None)).values(ended_at=now))
    if remember_token and len(remember_token) <= 200:
        db.session.execute(update(RememberToken).where(RememberToken.token_hash == _digest(remember_token),
                                                       RememberToken.revoked_at.is_(None)).values(revoked_at=now))


def issue_remember_token(user: User) -> str:
    """Create a "keep me logged in" token and return it (for the cookie; only its digest is stored)."""
    raw = secrets.token_urlsafe(32)
    days = current_app.config["REMEMBER_DAYS"]
    db.session.add(RememberToken(user_id=user.id, token_hash=_digest(raw),
                                 expires_at=clock.now() + timedelta(days=days)))
    db.session.flush()
    return raw


def use_remember_token(raw: str | None) -> tuple[User, str | None] | None:
    """Log in with a remember-me token: return its user and the token that replaces it, or None.

    A token is good once: using it replaces it. A request that raced that replacement (a second tab, within
    ``REMEMBER_GRACE_SECONDS``) gets the user and no new token. A replaced token that comes back later means
    someone else holds a copy: every cookie login of the account ends and the owner is told.
    """
    if not raw or len(raw) > 200:
        return None
    row = db.session.scalar(select(RememberToken).where(RememberToken.token_hash == _digest(raw))
                            .with_for_update())
    now = clock.now()
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = db.session.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    if row.replaced_at is None:
        row.replaced_at = now
        return user, issue_remember_token(user)
    if now - row.replaced_at <= timedelta(seconds=current_app.config["REMEMBER_GRACE_SECONDS"]):
        return user, None
    _end_cookie_logins(user)
    with in_locale_of(user):
        notify_account(user, "logged_out_everywhere", _("We logged you out everywhere"),
                       _("A \"keep me logged in\" cookie of your Onsite account was used after it had been "
                         "replaced, which happens when someone else holds a copy of it. Every browser is logged "
                         "out; log in again, and change your password if you did not expect this."))
    return None


def _end_cookie_logins(user: User) -> None:
    """End every cookie session of the user (a new epoch) and revoke every remember-me token."""
    user.session_epoch = User.session_epoch + 1  # in SQL: concurrent bumps all count
    db.session.execute(update(RememberToken).where(RememberToken.user_id == user.id,
                                                   RememberToken.revoked_at.is_(None)).values(revoked_at=clock.now()))
    db.session.flush()


def log_out_everywhere(actor: User) -> None:
    """End every login of the actor: cookie sessions, remember-me tokens and API tokens."""
    _end_cookie_logins(actor)
    db.session.execute(update(ApiToken).where(ApiToken.user_id == actor.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=clock.now()))


def change_password(actor: User, current_password: str, new_password: str) -> None:
    """Change the actor's password and end every login made with the old one (the caller starts its own again).

    :raises ValidationFailed: when the current password is wrong or the new one breaks the rules.
    """
    if not verify_password(actor, current_password or ""):
        raise ValidationFailed(details={"current_password": _("Your current password is wrong.")})
    problem = password_problem(new_password, actor.email, actor.display_name)
    if problem:
        raise ValidationFailed(details={"password": problem})
    actor.password_hash = hash_password(new_password)
    log_out_everywhere(actor)
    with in_locale_of(actor):
        notify_account(actor, "password_changed", _("Your password was changed"),
                       _("The password of your Onsite account was changed, and every other browser and API "
                         "token was logged out. If you did not do this, contact us at once."))


def create_admin(email: str, password: str, display_name: str = "Admin") -> User:
    """Create a platform admin, or promote an existing account.

    :raises ValidationFailed: on bad fields.
    """
    return create_with_role(email, password, display_name, Role.ADMIN)


def create_auditor(email: str, password: str, display_name: str = "Auditor") -> User:
    """Create a mystery-shopper auditor, or turn an existing account into one.

    :raises ValidationFailed: on bad fields.
    """
    return create_with_role(email, password, display_name, Role.AUDITOR)


def create_with_role(email: str, password: str, display_name: str, role: Role) -> User:
    """Create an account with ``role``, or give an existing account that role and the new password."""
    errors = validate_account_fields(email, password, display_name)
    if errors:
        raise ValidationFailed(details=errors)
    existing = find_user_by_email(email)
    if existing is not None:
        existing.role = role
        existing.password_hash = hash_password(password)
        return existing
    user = User(email=normalise_email(email), password_hash=hash_password(password),
                display_name=display_name, role=role)
    db.session.add(user)
    db.session.flush()
    return user
