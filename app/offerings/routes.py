"""Experience pages: the public page, and the owner's create/edit/archive forms."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from app import clock
from app.auth.security import actor
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from app.media import services as media
from app.merchants.hours import is_open_at
from app.merchants.services import can_manage_store, get_store
from app.offerings import services
from app.offerings.forms import OfferingForm
from app.offerings.models import OfferingStatus
from app.web import apply_form_errors, form_status, page_map
from bookings import services as booking_services
from geo.points import LngLat

bp = Blueprint("offerings", __name__)

FIELDS = ("title", "category", "description", "is_free", "price_amount", "currency", "duration_min",
          "capacity", "cancel_cutoff_hours", "policy_text")


def _fields(form: OfferingForm) -> dict:
    data = {key: form[key].data for key in FIELDS}
    if data["cancel_cutoff_hours"] is None:
        data["cancel_cutoff_hours"] = 0
    return data


def _uploads(form: OfferingForm) -> list:
    return [(upload.filename, upload.stream) for upload in form.photos.data or [] if getattr(upload, "filename", "")]


@bp.route("/merchant/stores/<int:store_id>/experiences/new", methods=["GET", "POST"])
@login_required
def new(store_id: int):
    store = get_store(actor(), store_id, manage=True)
    form = OfferingForm()
    if form.validate_on_submit():
        try:
            offering = services.create_offering(current_user, store, _fields(form))
            if _uploads(form):
                media.add_photos(current_user, offering, _uploads(form), field="photos")
        except ValidationFailed as exc:
            db.session.rollback()
            apply_form_errors(form, exc)
        except Conflict as exc:  # too_many_photos
            db.session.rollback()
            form.photos.errors = [exc.message]
        else:
            db.session.commit()
            flash(_("“%(title)s” is listed.", title=offering.title), "success")
            return redirect(url_for("offerings.detail", offering_id=offering.id))
    return render_template("offerings/form.html", form=form, store=store, offering=None), form_status(form)


@bp.route("/merchant/experiences/<int:offering_id>/edit", methods=["GET", "POST"])
@login_required
def edit(offering_id: int):
    offering = services.get_offering(actor(), offering_id, manage=True)
    form = OfferingForm(obj=offering)
    if request.method == "GET":
        form.is_free.data = offering.is_free
        form.price_amount.data = f"{offering.price_amount:.2f}"
    if form.validate_on_submit():
        try:
            booking_services.change_offering(current_user, offering, _fields(form), clock.now())
        except ValidationFailed as exc:
            db.session.rollback()
            apply_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Experience saved."), "success")
            return redirect(url_for("offerings.detail", offering_id=offering.id))
    return render_template("offerings/form.html", form=form, store=offering.store,
                           offering=offering), form_status(form)


@bp.post("/merchant/experiences/<int:offering_id>/archive")
@login_required
def archive(offering_id: int):
    offering = services.get_offering(actor(), offering_id, manage=True)
    booking_services.change_offering(current_user, offering, {"status": OfferingStatus.ARCHIVED}, clock.now())
    db.session.commit()
    flash(_("“%(title)s” is archived: residents no longer see it.", title=offering.title), "info")
    return redirect(url_for("merchants.dashboard"))


@bp.post("/merchant/experiences/<int:offering_id>/restore")
@login_required
def restore(offering_id: int):
    offering = services.get_offering(actor(), offering_id, manage=True)
    booking_services.change_offering(current_user, offering, {"status": OfferingStatus.ACTIVE}, clock.now())
    db.session.commit()
    flash(_("“%(title)s” is listed again.", title=offering.title), "success")
    return redirect(url_for("merchants.dashboard"))


@bp.get("/experiences/<int:offering_id>")
def detail(offering_id: int):
    offering = services.get_offering(actor(), offering_id)
    store = offering.store
    point = LngLat.from_element(store.location)
    pin = (point, Markup("<b>{}</b><br>{}").format(store.name, store.address), store.name)
    now = clock.now()
    return render_template(
        "offerings/detail.html", offering=offering, store=store, point=point,
        map=page_map(point, 15, [pin], height="280px"),
        open_now=is_open_at(store, now), can_manage=can_manage_store(actor(), store),
        availability=_availability(offering, now),
    )


def _availability(offering, now: datetime) -> dict:
    """The next 14 local days with their open slots, and the day the resident picked."""
    zone = ZoneInfo(offering.store.timezone)
    today = now.astimezone(zone).date()
    start = booking_services.bookable_from(offering, now)
    slots = booking_services.list_slots(offering, start, start + timedelta(days=14))
    days: dict[date, list] = {today + timedelta(days=n): [] for n in range(15)}
    for slot in slots:
        days.setdefault(slot.starts_at.astimezone(zone).date(), []).append(slot)
    try:
        chosen = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        chosen = next((day for day, items in days.items() if any(s.remaining for s in items)), today)
    return {"days": days, "chosen": chosen, "slots": days.get(chosen, []), "zone": zone,
            "has_schedule": booking_services.get_schedule(offering) is not None}
