"""Experience verbs: list and edit (an edit that must reach the slots goes through
``bookings.services.change_offering``; photos are app/media's)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import selectinload

from app.auth.models import User
from app.errors import NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.merchants.models import Business, BusinessStatus, Store, StoreStatus
from app.merchants.services import can_manage_store, can_view_store_private
from app.offerings.models import CURRENCIES, Category, Offering, OfferingStatus

MAX_PRICE = Decimal("99999999.99")


def publicly_visible() -> ColumnElement[bool]:
    """``is_publicly_visible`` in SQL, for a statement that joins the offering's store and business."""
    return and_(Offering.status == OfferingStatus.ACTIVE, Store.status == StoreStatus.ACTIVE,
                Business.status == BusinessStatus.ACTIVE)


def is_publicly_visible(offering: Offering) -> bool:
    store = offering.store
    return (offering.status == OfferingStatus.ACTIVE and store.status == StoreStatus.ACTIVE
            and store.business.status == BusinessStatus.ACTIVE)


def get_offering(actor: User | None, offering_id: int, *, manage: bool = False) -> Offering:
    """Return an experience the actor may see; with ``manage`` one the actor owns.

    :raises NotFound: when it does not exist or is hidden from the actor.
    :raises PermissionDenied: when ``manage`` and the actor does not own its store.
    """
    offering = db.session.get(Offering, offering_id)
    if offering is None:
        raise NotFound(_("No such experience."))
    if manage:
        if not can_manage_store(actor, offering.store):
            if is_publicly_visible(offering):
                raise PermissionDenied(_("Only the store's owner can change this experience."))
            raise NotFound(_("No such experience."))
    elif not is_publicly_visible(offering) and not can_view_store_private(actor, offering.store):
        raise NotFound(_("No such experience."))
    return offering


def _photos():
    """Load each experience's gallery (``Offering.photos``, declared by app.media.models) in one more query."""
    return selectinload(Offering.photos)  # type: ignore[attr-defined]


def list_offerings(*, store_id: int | None = None, category: str | None = None,
                   include_archived: bool = False, limit: int = 20, after_id: int = 0) -> list[Offering]:
    """List experiences by id; archived ones only when asked (by someone allowed)."""
    query = (select(Offering).join(Store).join(Business)
             .where(Offering.id > after_id, Store.status == StoreStatus.ACTIVE,
                    Business.status == BusinessStatus.ACTIVE)
             .order_by(Offering.id).limit(limit).options(_photos()))
    if not include_archived:
        query = query.where(Offering.status == OfferingStatus.ACTIVE)
    if store_id is not None:
        query = query.where(Offering.store_id == store_id)
    if category is not None:
        query = query.where(Offering.category == category)
    return list(db.session.scalars(query))


def offerings_of_store(store: Store, *, include_archived: bool) -> list[Offering]:
    query = (select(Offering).where(Offering.store_id == store.id).order_by(Offering.status, Offering.id)
             .options(_photos()))
    if not include_archived:
        query = query.where(Offering.status == OfferingStatus.ACTIVE)
    return list(db.session.scalars(query))


def _int_field(data: Mapping[str, Any], key: str, low: int, high: int, errors: dict) -> int | None:
    value = data[key]
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[key] = _("must be a whole number from %(low)d to %(high)d.", low=low, high=high)
        return None
    return value


def clean_price(value: Any) -> Decimal:
    """Parse a price paid at the store; 0 means free.

    :raises ValueError: when it is not a non-negative amount with at most two decimals.
    """
    if isinstance(value, (bool, float)):
        value = str(value) if isinstance(value, float) else None
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, TypeError):
        raise ValueError(_("must be an amount such as 88 or 88.50")) from None
    if not amount.is_finite() or amount < 0 or amount > MAX_PRICE:
        raise ValueError(_("must be an amount from 0 to 99999999.99"))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("has at most two decimals"))
    return amount.quantize(Decimal("0.01")).copy_abs()  # "-0" is 0.00, not -0.00


def _clean_offering(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    errors: dict[str, str] = {}
    out: dict[str, Any] = {}

    def text(key: str, max_len: int, required: bool) -> None:
        if key not in data:
            if required and not partial:
                errors[key] = _("is required.")
            return
        value = data[key] if data[key] is not None else ""
        if not isinstance(value, str):
            errors[key] = _("must be text.")
            return
        value = value.strip()
        if required and not value:
            errors[key] = _("is required.")
        elif len(value) > max_len:
            errors[key] = _("must be at most %(max)d characters.", max=max_len)
        else:
            out[key] = value

    text("title", 140, True)
    text("description", 5000, False)
    text("policy_text", 2000, False)
    if "category" in data or not partial:
        if data.get("category") not in set(Category):
            errors["category"] = _("must be one of: %(values)s.", values=", ".join(Category))
        else:
            out["category"] = data["category"]
    if data.get("is_free") is True or data.get("free") is True:
        out["price_amount"] = Decimal("0.00")
    elif "price_amount" in data:
        try:
            out["price_amount"] = clean_price(data["price_amount"])
        except ValueError as exc:
            errors["price_amount"] = str(exc)
    elif not partial:
        errors["price_amount"] = _("is required (0 for free).")
    if "currency" in data:
        currency = data["currency"]
        if not isinstance(currency, str) or currency.upper() not in CURRENCIES:
            errors["currency"] = _("must be one of: %(values)s.", values=", ".join(CURRENCIES))
        else:
            out["currency"] = currency.upper()
    for key, low, high, default in (("duration_min", 5, 1440, 60), ("capacity", 1, 1000, 1),
                                    ("cancel_cutoff_hours", 0, 720, 24)):
        if key in data:
            value = _int_field(data, key, low, high, errors)
            if value is not None:
                out[key] = value
        elif not partial:
            out[key] = default
    if "status" in data:
        if data["status"] not in set(OfferingStatus):
            errors["status"] = _("must be active or archived.")
        else:
            out["status"] = data["status"]
    if errors:
        raise ValidationFailed(details=errors)
    return out


def create_offering(actor: User, store: Store, data: Mapping[str, Any]) -> Offering:
    """List a new experience at a store the actor owns.

    :raises PermissionDenied: when the actor does not own the store.
    :raises ValidationFailed: on bad fields.
    """
    if not can_manage_store(actor, store):
        raise PermissionDenied(_("Only the store's owner can list experiences there."))
    fields = _clean_offering(data, partial=False)
    offering = Offering(store_id=store.id, location=store.location, **fields)
    offering.store = store
    offering.refresh_search_text()
    db.session.add(offering)
    db.session.flush()
    return offering


def update_offering(actor: User, offering: Offering, data: Mapping[str, Any]) -> Offering:
    """Change an experience's fields.

    :raises PermissionDenied: when the actor does not own its store.
    :raises ValidationFailed: on bad fields.
    """
    if not can_manage_store(actor, offering.store):
        raise PermissionDenied(_("Only the store's owner can change this experience."))
    for key, value in _clean_offering(data, partial=True).items():
        setattr(offering, key, value)
    offering.refresh_search_text()
    db.session.flush()
    return offering
