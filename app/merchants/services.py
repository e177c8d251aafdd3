"""Merchant verbs: businesses, stores, opening hours (staff: app/merchants/staff.py)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, time
from typing import Any
from zoneinfo import available_timezones

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from app.auth.models import Role, User
from app.discovery.geo_messages import coordinate_errors
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.merchants.hours import week_overlap
from app.merchants.models import (
    Business,
    BusinessCategory,
    BusinessStatus,
    HoursException,
    OpeningHours,
    Store,
    StoreStaff,
    StoreStatus,
)
from geo.points import InvalidCoordinates, LngLat

_TIME_RE = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?")
_TIMEZONES: frozenset[str] | None = None


def timezones() -> frozenset[str]:
    global _TIMEZONES
    if _TIMEZONES is None:
        _TIMEZONES = frozenset(available_timezones())
    return _TIMEZONES


# -- access -------------------------------------------------------------------

def is_owner(actor: User | None, business: Business) -> bool:
    return actor is not None and (actor.is_admin or business.owner_id == actor.id)


def can_manage_store(actor: User | None, store: Store) -> bool:
    """Owners (and admins) change a store and its experiences."""
    return is_owner(actor, store.business)


def can_view_store_private(actor: User | None, store: Store) -> bool:
    """Owners, admins and the store's staff see its non-public data."""
    if actor is None:
        return False
    if can_manage_store(actor, store):
        return True
    return db.session.scalar(
        select(StoreStaff.id).where(StoreStaff.store_id == store.id, StoreStaff.user_id == actor.id)
    ) is not None


def is_publicly_listed(store: Store) -> bool:
    return store.status == StoreStatus.ACTIVE and store.business.status == BusinessStatus.ACTIVE


def get_business(actor: User | None, business_id: int, *, manage: bool = False) -> Business:
    """Return a business; with ``manage`` only to its owner.

    :raises NotFound: when it does not exist.
    :raises PermissionDenied: when ``manage`` and the actor is not the owner.
    """
    business = db.session.get(Business, business_id)
    if business is None:
        raise NotFound(_("No such business."))
    if manage and not is_owner(actor, business):
        raise PermissionDenied(_("Only the owner can change this business."))
    return business


def get_store(actor: User | None, store_id: int, *, manage: bool = False) -> Store:
    """Return a store the actor may see; with ``manage`` one the actor owns.

    :raises NotFound: when it does not exist or is hidden from the actor.
    :raises PermissionDenied: when ``manage`` and the actor is not its owner.
    """
    store = db.session.get(Store, store_id)
    if store is None:
        raise NotFound(_("No such store."))
    if manage:
        if not can_manage_store(actor, store):
            raise PermissionDenied(_("Only the store's owner can change it."))
    elif not is_publicly_listed(store) and not can_view_store_private(actor, store):
        raise NotFound(_("No such store."))
    return store


def businesses_of(actor: User) -> list[Business]:
    return list(db.session.scalars(
        select(Business).where(Business.owner_id == actor.id).order_by(Business.id)))


def staff_stores_of(actor: User) -> list[Store]:
    return list(db.session.scalars(
        select(Store).join(StoreStaff).where(StoreStaff.user_id == actor.id).order_by(Store.id)))


def works_at_a_store(actor: User | None) -> bool:
    """Tell whether the actor is staff of any store (a membership, whatever the account's role)."""
    return actor is not None and db.session.scalar(
        select(StoreStaff.id).where(StoreStaff.user_id == actor.id).limit(1)) is not None


def list_stores(*, business_id: int | None = None, limit: int = 50, after_id: int = 0) -> list[Store]:
    """List publicly listed stores by id."""
    query = (select(Store).join(Business)
             .where(Store.status == StoreStatus.ACTIVE, Business.status == BusinessStatus.ACTIVE,
                    Store.id > after_id)
             .order_by(Store.id).limit(limit))
    if business_id is not None:
        query = query.where(Store.business_id == business_id)
    return list(db.session.scalars(query))


# -- validation ----------------------------------------------------------------

def _text(data: Mapping[str, Any], key: str, errors: dict, *, required: bool, max_len: int,
          min_len: int = 1) -> str | None:
    if key not in data:
        if required:
            errors[key] = _("is required.")
        return None
    value = data[key]
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[key] = _("must be text.")
        return None
    value = value.strip()
    if required and len(value) < min_len:
        errors[key] = _("is required.")
    elif len(value) > max_len:
        errors[key] = _("must be at most %(max)d characters.", max=max_len)
    return value


def _clean_business(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}
    for key, max_len, required in (("name", 120, True), ("description", 4000, False),
                                   ("phone", 40, False)):
        value = _text(data, key, errors, required=required and not partial, max_len=max_len)
        if value is not None and key not in errors:
            if key == "name" and not value:
                errors[key] = _("is required.")
            out[key] = value
    if "category" in data or not partial:
        category = data.get("category") or BusinessCategory.OTHER
        if category not in set(BusinessCategory):
            errors["category"] = _("is not a known category.")
        out["category"] = category
    if errors:
        raise ValidationFailed(details=errors)
    return out


def _clean_store(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, Any] = {}
    out: dict[str, Any] = {}
    for key, max_len, required in (("name", 120, True), ("address", 255, False)):
        value = _text(data, key, errors, required=required and not partial, max_len=max_len)
        if value is not None and key not in errors:
            if key == "name" and not value:
                errors[key] = _("is required.")
            out[key] = value
    if not partial or "lat" in data or "lng" in data:
        try:
            out["location"] = LngLat.parse(data.get("lng"), data.get("lat"))
        except InvalidCoordinates as exc:
            errors.update(coordinate_errors(exc.errors))
    if "timezone" in data or not partial:
        tz = data.get("timezone") or "Asia/Shanghai"
        if not isinstance(tz, str) or tz not in timezones():
            errors["timezone"] = _("must be an IANA time zone such as Asia/Shanghai.")
        out["timezone"] = tz
    if "geofence_m" in data:
        fence = data["geofence_m"]
        if isinstance(fence, bool) or not isinstance(fence, int) or not 10 <= fence <= 5000:
            errors["geofence_m"] = _("must be a whole number of metres between 10 and 5000.")
        out["geofence_m"] = fence
    if "status" in data:
        if data["status"] not in set(StoreStatus):
            errors["status"] = _("must be active or closed_permanently.")
        out["status"] = data["status"]
    if errors:
        raise ValidationFailed(details=errors)
    return out


def parse_time(value: Any) -> time:
    """Parse HH:MM (or HH:MM:SS); 24:00 is not accepted.

    :raises ValueError: otherwise.
    """
    if isinstance(value, time) and value.tzinfo is None:
        return value
    # time.fromisoformat alone also takes "10", "1000", "10:00Z", "10:00+08:00"; an offset
    # makes an aware time that cannot be compared with naive store-local times.
    if not isinstance(value, str) or not _TIME_RE.fullmatch(value.strip()):
        raise ValueError(_("must be a time HH:MM"))
    return time.fromisoformat(value.strip())


def _clean_hours(intervals: Iterable[Mapping[str, Any]]) -> list[tuple[int, time, time]]:
    """Check weekly intervals; closing at or before opening means the next day (see app/merchants/hours.py)."""
    errors: dict[str, str] = {}
    cleaned: list[tuple[int, time, time]] = []
    for index, item in enumerate(intervals):
        try:
            weekday = item["weekday"]
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(_("weekday must be 0 (Monday) to 6 (Sunday)"))
            cleaned.append((weekday, parse_time(item["opens"]), parse_time(item["closes"])))
        except (KeyError, TypeError, ValueError) as exc:
            errors[f"hours[{index}]"] = (str(exc) if not isinstance(exc, KeyError)
                                         else _("%(field)s is required", field=exc))
    if not errors and (overlap := week_overlap(cleaned)):
        errors["hours"] = overlap
    if errors:
        raise ValidationFailed(details=errors)
    return cleaned


# -- verbs ---------------------------------------------------------------------

def create_business(actor: User, data: Mapping[str, Any]) -> Business:
    """Create a business owned by the actor, who becomes a merchant (working at stores changes nothing).

    :raises ValidationFailed: on bad fields.
    :raises Conflict: ``too_many_businesses`` when the actor owns MAX_BUSINESSES_PER_ACCOUNT already.
    """
    fields = _clean_business(data, partial=False)
    # The account row is the lock: two concurrent creations cannot both pass the count.
    db.session.execute(select(User.id).where(User.id == actor.id).with_for_update())
    cap = current_app.config["MAX_BUSINESSES_PER_ACCOUNT"]
    owned = db.session.scalar(select(func.count()).select_from(Business).where(Business.owner_id == actor.id))
    if owned >= cap:
        raise Conflict(_("An account can own at most %(limit)d businesses.", limit=cap), code="too_many_businesses",
                       details={"limit": cap})
    if actor.role in (Role.RESIDENT, Role.STAFF):
        actor.role = Role.MERCHANT
    business = Business(owner_id=actor.id, **fields)
    db.session.add(business)
    db.session.flush()
    return business


def update_business(actor: User, business: Business, data: Mapping[str, Any]) -> Business:
    """Change a business's fields.

    :raises PermissionDenied: when the actor is not its owner.
    :raises ValidationFailed: on bad fields.
    """
    if not is_owner(actor, business):
        raise PermissionDenied(_("Only the owner can change this business."))
    for key, value in _clean_business(data, partial=True).items():
        setattr(business, key, value)
    db.session.flush()
    return business


def create_store(actor: User, business: Business, data: Mapping[str, Any]) -> Store:
    """Place a new store of the business on the map.

    :raises PermissionDenied: when the actor does not own the business.
    :raises ValidationFailed: on bad fields or coordinates.
    """
    if not is_owner(actor, business):
        raise PermissionDenied(_("Only the owner can add stores to this business."))
    fields = _clean_store(data, partial=False)
    location: LngLat = fields.pop("location")
    store = Store(business_id=business.id, location=location.to_element(), **fields)
    db.session.add(store)
    db.session.flush()
    if "hours" in data:
        set_opening_hours(actor, store, data["hours"])
    return store


def update_store(actor: User, store: Store, data: Mapping[str, Any]) -> Store:
    """Change a store; moving it moves its experiences on the map too.

    :raises PermissionDenied: when the actor does not own it.
    :raises ValidationFailed: on bad fields or coordinates.
    """
    if not can_manage_store(actor, store):
        raise PermissionDenied(_("Only the store's owner can change it."))
    if ("lat" in data) != ("lng" in data):
        current = LngLat.from_element(store.location)
        data = {"lat": current.lat, "lng": current.lng, **data}
    fields = _clean_store(data, partial=True)
    location: LngLat | None = fields.pop("location", None)
    renamed = "name" in fields and fields["name"] != store.name
    for key, value in fields.items():
        setattr(store, key, value)
    if renamed:
        from app.offerings.models import Offering

        for offering in db.session.scalars(select(Offering).where(Offering.store_id == store.id)):
            offering.refresh_search_text()
    if location is not None:
        store.location = location.to_element()
        from app.offerings.models import Offering

        db.session.execute(
            update(Offering).where(Offering.store_id == store.id).values(location=location.to_element())
        )
    if "hours" in data:
        set_opening_hours(actor, store, data["hours"])
    db.session.flush()
    return store


def set_opening_hours(actor: User, store: Store, intervals: Iterable[Mapping[str, Any]]) -> list[OpeningHours]:
    """Replace the store's weekly hours; an interval closing at or before its opening ends the next day.

    :raises PermissionDenied: when the actor does not own it.
    :raises ValidationFailed: on bad or overlapping intervals (overnight tails included).
    """
    if not can_manage_store(actor, store):
        raise PermissionDenied(_("Only the store's owner can change its hours."))
    if not isinstance(intervals, (list, tuple)):
        raise ValidationFailed(details={"hours": _("must be a list of {weekday, opens, closes}.")})
    cleaned = _clean_hours(intervals)
    store.hours.clear()
    db.session.flush()
    store.hours.extend(OpeningHours(weekday=w, opens_at=o, closes_at=c) for w, o, c in cleaned)
    db.session.flush()
    return store.hours


def set_hours_exception(actor: User, store: Store, day: date, *, is_closed: bool,
                        opens: time | None = None, closes: time | None = None,
                        note: str = "") -> HoursException:
    """Close the store on a day or give it special hours that day.

    :raises PermissionDenied: when the actor does not own it.
    Special hours may cross midnight like weekly ones; they replace that date's own intervals only.

    :raises ValidationFailed: when special hours are missing, or given for a day closed all day.
    """
    if not can_manage_store(actor, store):
        raise PermissionDenied(_("Only the store's owner can change its hours."))
    if is_closed and (opens is not None or closes is not None):
        raise ValidationFailed(details={"is_closed": _("A day closed all day has no hours: untick it to give "
                                                       "special hours, or leave the times empty.")})
    if not is_closed and (opens is None or closes is None):
        raise ValidationFailed(details={"closes": _("Give opening and closing times (closing at or before "
                                                    "opening means the next day).")})
    if len(note or "") > 120:
        raise ValidationFailed(details={"note": _("must be at most %(max)d characters.", max=120)})
    exception = db.session.scalar(
        select(HoursException).where(HoursException.store_id == store.id, HoursException.day == day))
    if exception is None:
        exception = HoursException(store_id=store.id, day=day)
        db.session.add(exception)
    exception.is_closed = is_closed
    exception.opens_at = None if is_closed else opens
    exception.closes_at = None if is_closed else closes
    exception.note = (note or "").strip()
    db.session.flush()
    return exception


def remove_hours_exception(actor: User, store: Store, exception_id: int) -> None:
    """Delete a dated exception.

    :raises PermissionDenied: when the actor does not own the store.
    :raises NotFound: when the exception is not this store's.
    """
    if not can_manage_store(actor, store):
        raise PermissionDenied(_("Only the store's owner can change its hours."))
    exception = db.session.get(HoursException, exception_id)
    if exception is None or exception.store_id != store.id:
        raise NotFound(_("No such exception."))
    db.session.delete(exception)
    db.session.flush()
