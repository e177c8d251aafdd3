"""The LngLat value type: validation and conversion to and from PostGIS."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from geoalchemy2.elements import WKBElement, WKTElement
from geoalchemy2.shape import to_shape

SRID = 4326


class InvalidCoordinates(ValueError):
    """Coordinates that are not a point on Earth; ``errors`` maps field to message."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _number(value: Any, name: str, low: float, high: float, errors: dict[str, str]) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        errors[name] = "is required."
        return None
    if isinstance(value, bool):
        errors[name] = "must be a number."
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors[name] = "must be a number."
        return None
    if not math.isfinite(number):
        errors[name] = "must be a finite number."
        return None
    if not low <= number <= high:
        errors[name] = f"must be between {low:g} and {high:g}."
        return None
    return number


@dataclass(frozen=True, slots=True)
class LngLat:
    """A WGS 84 point, longitude first."""

    lng: float
    lat: float

    @classmethod
    def parse(cls, lng: Any, lat: Any) -> LngLat:
        """Build a point from untrusted input.

        :raises InvalidCoordinates: when either value is missing, not a finite number or out of range.
        """
        errors: dict[str, str] = {}
        lat_value = _number(lat, "lat", -90.0, 90.0, errors)
        lng_value = _number(lng, "lng", -180.0, 180.0, errors)
        if errors:
            raise InvalidCoordinates(errors)
        return cls(lng=lng_value, lat=lat_value)  # type: ignore[arg-type]

    def to_wkt(self) -> str:
        return f"POINT({self.lng!r} {self.lat!r})"

    def to_element(self) -> WKTElement:
        """Return a value for a Geography(POINT, 4326) column."""
        return WKTElement(self.to_wkt(), srid=SRID, extended=False)

    @classmethod
    def from_element(cls, element: WKBElement | WKTElement | str | None) -> LngLat | None:
        """Read a point back from a geography column value."""
        if element is None:
            return None
        if isinstance(element, str):
            element = WKTElement(element, srid=SRID)
        shape = to_shape(element)
        return cls(lng=shape.x, lat=shape.y)


def haversine_m(a: LngLat, b: LngLat) -> float:
    """Great-circle distance in metres on a sphere of the mean Earth radius."""
    radius = 6_371_008.8
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi = phi2 - phi1
    dlmb = math.radians(b.lng - a.lng)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * radius * math.asin(math.sqrt(h))


@dataclass(frozen=True, slots=True)
class BBox:
    """A longitude/latitude box, west-south to east-north (no antimeridian crossing)."""

    min_lng: float
    min_lat: float
    max_lng: float
    max_lat: float

    @classmethod
    def parse(cls, min_lng: Any, min_lat: Any, max_lng: Any, max_lat: Any, *,
              max_span_deg: float = 180.0) -> BBox:
        """Build a box from untrusted input.

        :raises InvalidCoordinates: on bad numbers, an inverted box or one wider than ``max_span_deg``.
        """
        errors: dict[str, str] = {}
        values = {
            "min_lng": _number(min_lng, "min_lng", -180.0, 180.0, errors),
            "min_lat": _number(min_lat, "min_lat", -90.0, 90.0, errors),
            "max_lng": _number(max_lng, "max_lng", -180.0, 180.0, errors),
            "max_lat": _number(max_lat, "max_lat", -90.0, 90.0, errors),
        }
        if not errors:
            if values["max_lng"] <= values["min_lng"]:
                errors["max_lng"] = "must be greater than min_lng."
            if values["max_lat"] <= values["min_lat"]:
                errors["max_lat"] = "must be greater than min_lat."
        if not errors:
            if values["max_lng"] - values["min_lng"] > max_span_deg:
                errors["max_lng"] = f"the box may span at most {max_span_deg:g} degrees of longitude."
            if values["max_lat"] - values["min_lat"] > max_span_deg:
                errors["max_lat"] = f"the box may span at most {max_span_deg:g} degrees of latitude."
        if errors:
            raise InvalidCoordinates(errors)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def width(self) -> float:
        return self.max_lng - self.min_lng

    @property
    def height(self) -> float:
        return self.max_lat - self.min_lat
