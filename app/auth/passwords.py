"""Which passwords to refuse: too short or long, common, or made of the account's own e-mail or name."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from flask_babel import gettext as _

MIN_PASSWORD = 8
MAX_PASSWORD = 256
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common-passwords.txt"
# An e-mail local part or a name this short says little about the password that contains it.
MIN_CONTEXT_LENGTH = 3


@cache
def common_passwords() -> frozenset[str]:
    """The bundled list of common passwords, lower-cased."""
    with COMMON_PASSWORDS_FILE.open(encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines if line.strip() and not line.startswith("#"))


def _letters_and_digits(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.casefold())


def password_problem(password: object, email: str = "", display_name: str = "") -> str | None:
    """Say what is wrong with a new password for the account with this e-mail and name, or None."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        return _("Use %(min)d to %(max)d characters.", min=MIN_PASSWORD, max=MAX_PASSWORD)
    if not password.strip():
        return _("A password cannot be only spaces.")
    if len(set(password)) == 1:
        return _("A password cannot be one character repeated.")
    if password.casefold() in common_passwords():
        return _("This password is too common: it is among the first that attackers try. Choose another.")
    squeezed = _letters_and_digits(password)
    email = (email or "").strip().casefold()
    local_part = _letters_and_digits(email.partition("@")[0])
    name = _letters_and_digits(display_name or "")
    if password.casefold() == email or any(
            len(part) >= MIN_CONTEXT_LENGTH and part in squeezed for part in (local_part, name)):
        return _("Do not build your password from your e-mail address or your name.")
    return None
