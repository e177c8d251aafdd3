"""Booking pages: book from an experience, a visit's page, my visits, the inbox, the store's day,
the availability editor."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

import segno
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup

from app import clock
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.merchants.services import get_store
from app.offerings.services import get_offering
from app.redirects import safe_next
from bookings import services
from bookings.models import Slot
from bookings.states import CANCELLED, LABELS

bp = Blueprint("bookings", __name__)
WEEKDAYS = (_l("Mon"), _l("Tue"), _l("Wed"), _l("Thu"), _l("Fri"), _l("Sat"), _l("Sun"))



def _int(name: str, default: int | None = None) -> int | None:
    value = request.form.get(name, "").strip()
    return int(value) if value.removeprefix("-").isdigit() and len(value) < 10 else default


def _back(default: str) -> str:
    return safe_next(request.form.get("next"), default)


def _fail(error: DomainError, default: str):
    db.session.rollback()
    details = "; ".join(f"{v}" for v in (error.details or {}).values() if isinstance(v, str))
    flash(f"{error.message} {details}".strip(), "error")
    return redirect(_back(default))


@bp.post("/bookings")
@login_required
def create():
    offering_id = _int("offering_id", 0)
    back = url_for("offerings.detail", offering_id=offering_id, day=request.form.get("day") or None)
    try:
        booking = services.book(current_user, _int("slot_id"), _int("party_size"), request.form.get("note", ""),
                                clock.now())
    except (Conflict, ValidationFailed) as error:
        return _fail(error, back)
    db.session.commit()
    flash(_("Booked! Show your code at the store; you pay there.") if booking.status == "confirmed"
          else _("Requested: the store will confirm your booking."), "success")
    return redirect(url_for("bookings.detail", booking_id=booking.id))


@bp.post("/slots/<int:slot_id>/waitlist")
@login_required
def join_waitlist(slot_id: int):
    slot = db.session.get(Slot, slot_id)
    # Back to the slot's own day on the experience page, where the resident was.
    back = url_for("offerings.detail", offering_id=slot.offering_id,
                   day=slot.starts_at.astimezone(ZoneInfo(slot.offering.store.timezone)).date().isoformat(),
                   _anchor="book") if slot else url_for("discovery.home")
    try:
        services.join_waitlist(current_user, slot_id, _int("party_size"), request.form.get("note", ""), clock.now())
    except (Conflict, ValidationFailed) as error:
        return _fail(error, back)
    db.session.commit()
    flash(_("You are on the waitlist. If seats free up, you will be booked and told."), "success")
    return redirect(url_for("bookings.my_visits"))


@bp.post("/waitlist/<int:entry_id>/leave")
@login_required
def leave_waitlist(entry_id: int):
    services.leave_waitlist(current_user, entry_id)
    db.session.commit()
    flash(_("You left the waitlist."), "info")
    return redirect(url_for("bookings.my_visits"))


@bp.get("/bookings/<int:booking_id>")
@login_required
def detail(booking_id: int):
    booking = services.get_booking(current_user, booking_id)
    zone = ZoneInfo(booking.store.timezone)
    now = clock.now()
    alternatives = []
    if booking.resident_id == current_user.id and booking.status in ("pending", "confirmed") \
            and now < services.cutoff_of(booking):
        start = max(now, services.bookable_from(booking.offering, now))
        alternatives = [s for s in services.list_slots(booking.offering, start, start + timedelta(days=14))
                        if s.id != booking.slot_id and s.remaining >= booking.party_size]
    qr = None
    if booking.resident_id == current_user.id and booking.status in ("pending", "confirmed"):
        from bookings.checkin import issue_token

        token = issue_token(booking, current_app.config["SECRET_KEY"].encode())
        qr = Markup(segno.make(token, error="m").svg_inline(scale=5, dark="#111", border=2))  # noqa: S704
    return render_template(
        "bookings/detail.html", booking=booking, zone=zone, labels=LABELS, now=now,
        cutoff=services.cutoff_of(booking), alternatives=alternatives[:40], qr=qr,
        is_resident=booking.resident_id == current_user.id,
        works_here=services.can_work_store(current_user, booking.store))


@bp.post("/bookings/<int:booking_id>/cancel")
@login_required
def cancel(booking_id: int):
    back = url_for("bookings.detail", booking_id=booking_id)
    try:
        booking = services.cancel(current_user, booking_id, request.form.get("reason", ""), clock.now())
    except (Conflict, ValidationFailed) as error:
        return _fail(error, back)
    db.session.commit()
    flash(_("Cancelled late: the store's cut-off had passed, so this counts as a late cancel.")
          if booking.is_late_cancel else _("Cancelled. Nothing to pay."), "info")
    return redirect(_back(back))


@bp.post("/bookings/<int:booking_id>/reschedule")
@login_required
def reschedule(booking_id: int):
    back = url_for("bookings.detail", booking_id=booking_id)
    try:
        services.reschedule(current_user, booking_id, _int("slot_id"), clock.now())
    except (Conflict, ValidationFailed) as error:
        return _fail(error, back)
    db.session.commit()
    flash(_("Moved. Your code stays the same."), "success")
    return redirect(back)


@bp.post("/bookings/<int:booking_id>/<any(confirm, reject, 'no-show'):action>")
@login_required
def merchant_action(booking_id: int, action: str):
    back = url_for("bookings.detail", booking_id=booking_id)
    try:
        if action == "confirm":
            services.confirm(current_user, booking_id)
        elif action == "reject":
            services.reject(current_user, booking_id, request.form.get("reason", ""), clock.now())
        else:
            services.mark_no_show(current_user, booking_id, clock.now())
    except (Conflict, ValidationFailed) as error:
        return _fail(error, back)
    db.session.commit()
    flash({"confirm": _("Confirmed."), "reject": _("Declined."), "no-show": _("Marked as a no-show.")}[action],
          "success")
    return redirect(_back(back))


@bp.get("/me/visits")
@login_required
def my_visits():
    now = clock.now()
    soon = services.bookings_of_resident(current_user, upcoming=True, now=now)
    return render_template("bookings/my_visits.html", labels=LABELS, waiting=services.waiting_of(current_user),
                           upcoming=[b for b in soon if b.status not in CANCELLED],
                           called_off=[b for b in soon if b.status in CANCELLED],
                           past=services.bookings_of_resident(current_user, upcoming=False, now=now))


@bp.get("/me/inbox")
@login_required
def inbox():
    items = services.notifications_of(current_user)
    return render_template("bookings/inbox.html", items=items, zones=services.zones_of(items),
                           unread=services.unread_count(current_user))


@bp.post("/me/inbox/read")
@login_required
def mark_inbox_read():
    services.mark_notifications_read(current_user, clock.now())
    db.session.commit()
    return redirect(url_for("bookings.inbox"))


def _day_arg() -> date | None:
    """The ?day=YYYY-MM-DD a page was asked for, or None (then the store's today)."""
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        return None
    # Near date.min/max a day's bounds overflow.
    return day if date(1970, 1, 1) <= day <= date(9999, 1, 1) else None


@bp.get("/merchant/stores/<int:store_id>/bookings")
@login_required
def store_day(store_id: int):
    store = get_store(current_user, store_id)
    zone = ZoneInfo(store.timezone)
    day = _day_arg() or clock.today(zone)
    bookings = services.bookings_of_store_day(current_user, store, day)
    return render_template("bookings/store_day.html", store=store, day=day, bookings=bookings, zone=zone,
                           labels=LABELS, now=clock.now(), timedelta=timedelta)


@bp.route("/merchant/experiences/<int:offering_id>/schedule", methods=["GET", "POST"])
@login_required
def schedule(offering_id: int):
    offering = get_offering(current_user, offering_id, manage=True)
    problem = None
    if request.method == "POST":
        try:
            data = _schedule_form()
            result = services.set_schedule(current_user, offering, data, clock.now())
        except ValidationFailed as error:
            db.session.rollback()
            offering = get_offering(current_user, offering_id, manage=True)
            problem = _schedule_problem(error, data)
        else:
            db.session.commit()
            counts = {"created": result.created, "removed": result.removed, "kept": result.kept_with_bookings}
            flash(_("Availability saved: %(created)s new slots, %(removed)s removed; %(kept)s slots no longer "
                    "planned still hold bookings — cancel them below if you must.", **counts)
                  if result.kept_with_bookings
                  else _("Availability saved: %(created)s new slots, %(removed)s removed.", **counts), "success")
            return redirect(url_for("bookings.schedule", offering_id=offering.id))
    current = services.get_schedule(offering)
    zone = ZoneInfo(offering.store.timezone)
    now = clock.now()
    slots = services.list_slots(offering, now, now + timedelta(days=14))
    return render_template("bookings/schedule.html", offering=offering, schedule=current, weekdays=WEEKDAYS,
                           slots=slots, zone=zone, problem=problem, form=request.form if problem else None), \
        422 if problem else 200


SCHEDULE_FIELDS = {"weekly": _l("Weekly times"), "every": _l("Every … minutes"), "weeks_ahead": _l("Weeks ahead"),
                   "min_notice_minutes": _l("Minimum notice"), "checkin_opens_minutes": _l("Check-in opens"),
                   "requires_approval": _l("Approval"), "exceptions": _l("Exceptions")}
DAY_NAMES = (_l("Monday"), _l("Tuesday"), _l("Wednesday"), _l("Thursday"), _l("Friday"), _l("Saturday"),
             _l("Sunday"))


def _schedule_problem(error: ValidationFailed, data: dict) -> str:
    """Say what is wrong as the form names it: "Tuesday: 25:99 is not a time…", "Exceptions, line 2: …"."""
    said = []
    for path, message in (error.details or {}).items():
        head, _dot, index = path.split(".")[0].partition("[")
        label = SCHEDULE_FIELDS.get(head, head)
        if index and head == "weekly":
            label = DAY_NAMES[data["weekly"][int(index.rstrip("]"))]["weekday"]]
        elif index:
            label = _("%(field)s, line %(line)s", field=label, line=int(index.rstrip("]")) + 1)
        text = message if isinstance(message, str) else "; ".join(map(str, message))
        said.append(_("%(field)s: %(problem)s", field=label, problem=text))
    return "; ".join(said) or str(error.message)


def _schedule_form() -> dict:
    """Read the availability form: times per weekday, an optional repeating range, rules, exceptions."""
    weekly = []
    for weekday in range(7):
        raw = request.form.get(f"times_{weekday}", "")
        times = [t.strip() for t in raw.replace(";", ",").replace(" ", ",").split(",") if t.strip()]
        if times:
            weekly.append({"weekday": weekday, "times": times})
    data: dict = {"weekly": weekly, "requires_approval": request.form.get("requires_approval") == "on"}
    for key in ("weeks_ahead", "min_notice_minutes", "checkin_opens_minutes"):
        value = request.form.get(key, "").strip()
        data[key] = int(value) if value.lstrip("-").isdigit() and len(value) < 7 else value or None
        if data[key] is None:
            del data[key]
    if request.form.get("every_minutes", "").strip():
        minutes = request.form["every_minutes"].strip()
        data["every"] = {"weekdays": [d for d in range(7) if request.form.get(f"every_day_{d}") == "on"],
                         "from": request.form.get("every_from", ""), "to": request.form.get("every_to", ""),
                         "minutes": int(minutes) if minutes.isdigit() and len(minutes) < 5 else minutes}
    exceptions = []
    for line in request.form.get("exceptions", "").splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) == 1:
            exceptions.append({"date": parts[0], "kind": "day_off"})
        else:
            exceptions.append({"date": parts[0], "kind": "extra_slot", "time": parts[1]})
    data["exceptions"] = exceptions
    return data


@bp.post("/merchant/slots/<int:slot_id>/cancel")
@login_required
def cancel_slot(slot_id: int):
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        flash(_("No such slot."), "error")
        return redirect(url_for("merchants.dashboard"))
    back = url_for("bookings.schedule", offering_id=slot.offering_id)
    try:
        count = services.cancel_slot(current_user, slot, request.form.get("reason", ""), clock.now())
    except (Conflict, ValidationFailed) as error:
        return _fail(error, back)
    db.session.commit()
    flash(_("Slot cancelled; %(num)s booking(s) cancelled and their residents told.", num=count), "info")
    return redirect(_back(back))


@bp.get("/merchant/stores/<int:store_id>/checkin")
@login_required
def checkin_desk(store_id: int):
    from bookings import checkin

    store = get_store(current_user, store_id)
    if not services.can_work_store(current_user, store):
        raise NotFound(_("No such store."))
    now = clock.now()
    roster = checkin.roster(current_user, store.id, _day_arg(), now)
    return render_template("bookings/checkin_desk.html", store=store, roster=roster, labels=LABELS,
                           zone=ZoneInfo(store.timezone), store_code=checkin.store_code(store, now),
                           seconds_left=checkin.seconds_left(now), effective=checkin.effective_payments)


@bp.post("/bookings/<int:booking_id>/code")
@login_required
def new_code(booking_id: int):
    from bookings import checkin

    back = url_for("bookings.detail", booking_id=booking_id)
    try:
        checkin.reissue_code(current_user, booking_id)
    except (Conflict, ValidationFailed) as error:
        return _fail(error, back)
    db.session.commit()
    flash(_("New code issued. The old code and QR no longer work."), "success")
    return redirect(back)
