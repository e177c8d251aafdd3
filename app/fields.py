"""Fields for JSON request bodies that read JSON types as the OpenAPI document states them.

marshmallow's own fields coerce: ``Integer`` takes ``"12"`` and truncates ``1.5`` to 1 (or, strict, refuses
``12.0``, which JSON Schema calls an integer), ``Float`` takes ``"1.5"``, ``Boolean`` takes ``"yes"`` and ``0``.
In a JSON body each of these either accepts what the schema forbids or refuses what it allows. Query strings
are text, so query schemas keep marshmallow's fields.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from apiflask import fields
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from marshmallow import ValidationError

AMOUNT_PATTERN = r"^[0-9]{1,8}(\.[0-9]{1,2})?$"
_AMOUNT = re.compile(AMOUNT_PATTERN)
MAX_AMOUNT = Decimal("99999999.99")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _Translated:
    """A field whose own messages (lazy, translatable) are raised in the request's language as plain text."""

    def make_error(self, key: str, **kwargs: Any) -> ValidationError:
        message = self.error_messages.get(key)
        if isinstance(message, LazyString):  # marshmallow formats only str, and takes any other as a message list
            return ValidationError(str(message).format(**kwargs))
        return super().make_error(key, **kwargs)


class WholeNumber(fields.Integer):
    """A JSON integer: 12 or 12.0, never "12", 12.5 or true."""

    def _validated(self, value: Any) -> int:
        if not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
            raise self.make_error("invalid", input=value)
        return super()._validated(int(value))


class Number(fields.Float):
    """A finite JSON number, never a string or a boolean."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_nan=False, **kwargs)

    def _validated(self, value: Any) -> float:
        if not _is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class Flag(fields.Boolean):
    """A JSON boolean: true or false, not "yes" or 1."""

    def _deserialize(self, value: Any, attr, data, **kwargs) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class Amount(_Translated, fields.Decimal):
    """Money from 0 to 99,999,999.99 with at most two decimals: a JSON number (88, 88.5) or a string ("88.50")."""

    default_error_messages = {"invalid": _l("must be an amount from 0 to 99999999.99 with at most two decimals.")}

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(allow_nan=False, **kwargs)

    def _validated(self, value: Any) -> Decimal:
        if isinstance(value, str) and _AMOUNT.fullmatch(value):
            number = Decimal(value)
        elif _is_number(value) and math.isfinite(value):
            try:
                number = Decimal(str(value))  # the shortest text that reads back as this float: 0.57, not 0.5699…
            except InvalidOperation:
                raise self.make_error("invalid", input=value) from None
        else:
            raise self.make_error("invalid", input=value)
        if not 0 <= number <= MAX_AMOUNT or number != number.quantize(Decimal("0.01")):
            raise self.make_error("invalid", input=value)
        return number


def amount_schema(description: str) -> dict[str, Any]:
    """The OpenAPI schema of an ``Amount`` (apispec cannot tell a number-or-string field)."""
    return {"type": ["number", "string"], "minimum": 0, "maximum": float(MAX_AMOUNT), "multipleOf": 0.01,
            "pattern": AMOUNT_PATTERN, "description": description, "example": "88.00"}


# Years 1970 to 9998: a day's bounds in any time zone, and a default range of 14 days after it, still exist.
DAY_PATTERN = (r"^(19[7-9][0-9]|[2-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])"
               r"-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
_DAY = re.compile(DAY_PATTERN)


class Day(_Translated, fields.Date):
    """A calendar date YYYY-MM-DD from 1970-01-01 to 9998-12-31; with ``text=True`` it stays a string."""

    default_error_messages = {"invalid": _l("must be a date YYYY-MM-DD from 1970-01-01 to 9998-12-31.")}

    def __init__(self, *, text: bool = False, **kwargs: Any) -> None:
        metadata = {"pattern": DAY_PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)
        self.text = text

    def _deserialize(self, value: Any, attr, data, **kwargs):
        if not isinstance(value, str) or not _DAY.fullmatch(value):
            raise self.make_error("invalid", input=value)
        day = super()._deserialize(value, attr, data, **kwargs)  # refuses 2026-02-30
        return value if self.text else day
