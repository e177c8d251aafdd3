"""geo/ says what is wrong with coordinates in English and knows nothing of Flask; this turns its messages
into the request's language where the app answers with them (store forms and the store and in-view APIs)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from flask_babel import gettext as _

# Each message geo.points writes, matched whole; the numbers it formats come back as placeholders.
_MESSAGES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (re.compile(r"is required\."), lambda m: _("is required.")),
    (re.compile(r"must be a number\."), lambda m: _("must be a number.")),
    (re.compile(r"must be a finite number\."), lambda m: _("must be a finite number.")),
    (re.compile(r"must be between (\S+) and (\S+)\."),
     lambda m: _("must be between %(low)s and %(high)s.", low=m[1], high=m[2])),
    (re.compile(r"must be greater than (min_lng|min_lat)\."),
     lambda m: _("must be greater than %(field)s.", field=m[1])),
    (re.compile(r"the box may span at most (\S+) degrees of longitude\."),
     lambda m: _("the box may span at most %(degrees)s degrees of longitude.", degrees=m[1])),
    (re.compile(r"the box may span at most (\S+) degrees of latitude\."),
     lambda m: _("the box may span at most %(degrees)s degrees of latitude.", degrees=m[1])),
)


def translate_geo_message(message: str) -> str:
    """One of geo.points' messages in the request's language (an unknown one as it is)."""
    for pattern, translated in _MESSAGES:
        match = pattern.fullmatch(message)
        if match:
            return translated(match)
    return message


def coordinate_errors(errors: Mapping[str, str]) -> dict[str, str]:
    """``InvalidCoordinates.errors`` (field to message) in the request's language."""
    return {field: translate_geo_message(message) for field, message in errors.items()}
