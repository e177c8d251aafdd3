"""Merchant pages: dashboard, business and store forms, hours, staff and invitations; the public store page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup

from app import clock
from app.auth.security import actor
from app.errors import Conflict, ValidationFailed
from app.extensions import db, limiter
from app.merchants import services, staff
from app.merchants.forms import COMMON_TIMEZONES, BusinessForm, HoursExceptionForm, StaffForm, StoreForm
from app.merchants.hours import WEEKDAYS, describe, is_open_at
from app.offerings.services import offerings_of_store
from app.web import apply_form_errors, form_status, page_map
from geo.points import LngLat

bp = Blueprint("merchants", __name__)


@bp.app_template_global()
def works_at_a_store(user) -> bool:
    """For the menu: whether the visitor is staff of any store (membership, not the account's role)."""
    return services.works_at_a_store(user if user.is_authenticated else None)


@bp.app_template_global()
def invitation_status(status: str) -> str:
    """An invitation's status as the page says it, in the request's language."""
    return staff.status_label(status)


@bp.app_template_filter("hours")
def hours_text(interval) -> str:
    """An opening interval (weekly or dated) as people read it: 18:00–02:00 (next day)."""
    return describe(interval.opens_at, interval.closes_at)


@bp.get("/merchant/")
@login_required
def dashboard():
    businesses = services.businesses_of(current_user)
    staff_stores = services.staff_stores_of(current_user)
    offerings = {store.id: offerings_of_store(store, include_archived=True)
                 for business in businesses for store in business.stores}
    offerings.update({store.id: offerings_of_store(store, include_archived=False) for store in staff_stores})
    return render_template("merchants/dashboard.html", businesses=businesses, staff_stores=staff_stores,
                           offerings=offerings)


@bp.route("/merchant/businesses/new", methods=["GET", "POST"])
@login_required
def new_business():
    form = BusinessForm()
    if form.validate_on_submit():
        try:
            business = services.create_business(current_user, form.data)
        except ValidationFailed as exc:
            apply_form_errors(form, exc)
        except Conflict as exc:  # too_many_businesses
            form.form_errors.append(exc.message)
        else:
            db.session.commit()
            flash(_("%(name)s is created. Now place your first store on the map.", name=business.name), "success")
            return redirect(url_for("merchants.new_store", business_id=business.id))
    return render_template("merchants/business_form.html", form=form, business=None), form_status(form)


@bp.route("/merchant/businesses/<int:business_id>/edit", methods=["GET", "POST"])
@login_required
def edit_business(business_id: int):
    business = services.get_business(actor(), business_id, manage=True)
    form = BusinessForm(obj=business)
    if form.validate_on_submit():
        try:
            services.update_business(current_user, business, form.data)
        except ValidationFailed as exc:
            apply_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Business saved."), "success")
            return redirect(url_for("merchants.dashboard"))
    return render_template("merchants/business_form.html", form=form, business=business), form_status(form)


def _store_form_page(form: StoreForm, store=None, business=None):
    point = None
    try:
        point = LngLat.parse(form.lng.data, form.lat.data)
    except ValueError:
        pass
    pins = [(point, None, _("Your store"))] if point else []
    map_parts = page_map(point, 16 if point else 12, pins, height="420px", draggable=True)
    return render_template("merchants/store_form.html", form=form, store=store, business=business,
                           map=map_parts, timezones=COMMON_TIMEZONES), form_status(form)


def _store_fields(form: StoreForm) -> dict:
    data = {key: form[key].data for key in ("name", "address", "lat", "lng", "timezone")}
    if form.geofence_m.data is not None:
        data["geofence_m"] = form.geofence_m.data
    return data


@bp.route("/merchant/businesses/<int:business_id>/stores/new", methods=["GET", "POST"])
@login_required
def new_store(business_id: int):
    business = services.get_business(actor(), business_id, manage=True)
    form = StoreForm()
    if form.validate_on_submit():
        try:
            store = services.create_store(current_user, business, _store_fields(form))
        except ValidationFailed as exc:
            apply_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("%(name)s is on the map. Set its opening hours next.", name=store.name), "success")
            return redirect(url_for("merchants.store_hours", store_id=store.id))
    return _store_form_page(form, business=business)


@bp.route("/merchant/stores/<int:store_id>/edit", methods=["GET", "POST"])
@login_required
def edit_store(store_id: int):
    store = services.get_store(actor(), store_id, manage=True)
    form = StoreForm(obj=store)
    if request.method == "GET":
        point = LngLat.from_element(store.location)
        form.lat.data, form.lng.data = f"{point.lat:.6f}", f"{point.lng:.6f}"
    if form.validate_on_submit():
        try:
            services.update_store(current_user, store, _store_fields(form))
        except ValidationFailed as exc:
            apply_form_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Store saved."), "success")
            return redirect(url_for("merchants.dashboard"))
    return _store_form_page(form, store=store, business=store.business)


EXCEPTION_FIELDS = ("day", "is_closed", "opens", "closes", "note")


def _hours_from_form() -> list[dict]:
    """Read the weekly grid: d<weekday>_<n>_opens / _closes, blank rows ignored."""
    intervals = []
    for weekday in range(7):
        for slot in (0, 1):
            opens = request.form.get(f"d{weekday}_{slot}_opens", "").strip()
            closes = request.form.get(f"d{weekday}_{slot}_closes", "").strip()
            if opens or closes:
                intervals.append({"weekday": weekday, "opens": opens, "closes": closes})
    return intervals


def _grid_problem(exc: ValidationFailed, intervals: list[dict]) -> str:
    """Say what is wrong with the weekly grid, a bad row by its day."""
    def day_of(key: str) -> str:
        index = key.removeprefix("hours[").removesuffix("]")
        return str(WEEKDAYS[intervals[int(index)]["weekday"]]) if index.isdigit() else ""

    def problem(key: str, message: str) -> str:
        day = day_of(key)
        return _("%(day)s: %(problem)s", day=day, problem=message) if day else message
    return _("; ").join(problem(key, message) for key, message in exc.details.items())


@bp.route("/merchant/stores/<int:store_id>/hours", methods=["GET", "POST"])
@login_required
def store_hours(store_id: int):
    store = services.get_store(actor(), store_id, manage=True)
    # After a refused exception, the form comes back with what was typed (add_exception puts it in the URL).
    kept = request.args if any(key in request.args for key in EXCEPTION_FIELDS) else None
    exception_form = HoursExceptionForm(formdata=kept) if kept else HoursExceptionForm()
    problem = None
    if request.method == "POST":
        intervals = _hours_from_form()
        try:
            services.set_opening_hours(current_user, store, intervals)
        except ValidationFailed as exc:
            db.session.rollback()
            problem = _grid_problem(exc, intervals)
            store = services.get_store(actor(), store_id, manage=True)
        else:
            db.session.commit()
            flash(_("Opening hours saved."), "success")
            return redirect(url_for("merchants.store_hours", store_id=store.id))
    grid = {(w, i): (None, None) for w in range(7) for i in (0, 1)}
    counts = dict.fromkeys(range(7), 0)
    for interval in store.hours:
        grid[(interval.weekday, counts[interval.weekday])] = (interval.opens_at, interval.closes_at)
        counts[interval.weekday] = min(counts[interval.weekday] + 1, 1)
    status = 422 if problem else 200
    return render_template("merchants/store_hours.html", store=store, grid=grid, weekdays=WEEKDAYS,
                           exception_form=exception_form, problem=problem,
                           submitted=request.form if problem else None), status


@bp.post("/merchant/stores/<int:store_id>/exceptions")
@login_required
def add_exception(store_id: int):
    store = services.get_store(actor(), store_id, manage=True)
    form = HoursExceptionForm()
    problem = None
    if not form.validate_on_submit():
        problem = _("Give a valid date for the exception.")
    else:
        try:
            opens = services.parse_time(form.opens.data) if form.opens.data else None
            closes = services.parse_time(form.closes.data) if form.closes.data else None
            services.set_hours_exception(current_user, store, form.day.data, is_closed=form.is_closed.data,
                                         opens=opens, closes=closes, note=form.note.data or "")
        except ValueError:
            problem = _("Times must look like 09:30.")
        except ValidationFailed as exc:
            problem = _("; ").join(map(str, exc.details.values())) or exc.message
    if problem:
        db.session.rollback()
        flash(problem, "error")
        # Back to the form with what was typed still in it: a refusal loses nothing.
        kept = {key: request.form[key] for key in EXCEPTION_FIELDS if request.form.get(key)}
        return redirect(url_for("merchants.store_hours", store_id=store.id, **kept, _anchor="exception-form"))
    db.session.commit()
    flash(_("Exception saved."), "success")
    return redirect(url_for("merchants.store_hours", store_id=store.id))


@bp.post("/merchant/stores/<int:store_id>/exceptions/<int:exception_id>/delete")
@login_required
def delete_exception(store_id: int, exception_id: int):
    store = services.get_store(actor(), store_id, manage=True)
    services.remove_hours_exception(current_user, store, exception_id)
    db.session.commit()
    flash(_("Exception removed."), "success")
    return redirect(url_for("merchants.store_hours", store_id=store.id))


def _invitation_key() -> str:
    return f"staff-invitations:{current_user.id if current_user.is_authenticated else request.remote_addr}"


# Each invitation e-mails an address the owner typed: page and API share one budget per account.
invitations_limit = limiter.shared_limit("30 per hour", scope="staff-invitations", key_func=_invitation_key,
                                         methods=["POST"])


def invitation_link(token: str) -> str:
    """The absolute URL an invitation e-mail carries."""
    return url_for("merchants.invitation", token=token, _external=True)


@bp.route("/merchant/stores/<int:store_id>/staff", methods=["GET", "POST"])
@login_required
@invitations_limit
def store_staff(store_id: int):
    store = services.get_store(actor(), store_id, manage=True)
    form = StaffForm()
    if form.validate_on_submit():
        try:
            staff.invite_staff(current_user, store, form.email.data, clock.now(), invitation_link)
        except (ValidationFailed, Conflict) as exc:
            apply_form_errors(form, exc)
        else:
            db.session.commit()
            # The same words whether or not the address has an account.
            flash(_("Invitation sent to %(email)s. They join the staff of %(store)s when they accept it.",
                    email=form.email.data.strip().lower(), store=store.name), "success")
            return redirect(url_for("merchants.store_staff", store_id=store.id))
    return render_template("merchants/store_staff.html", store=store, form=form, now=clock.now(),
                           people=staff.staff_of_store(current_user, store)), form_status(form)


@bp.post("/merchant/stores/<int:store_id>/staff/<int:user_id>/delete")
@login_required
def remove_staff(store_id: int, user_id: int):
    store = services.get_store(actor(), store_id, manage=True)
    staff.remove_staff(current_user, store, user_id)
    db.session.commit()
    flash(_("Staff member removed."), "success")
    return redirect(url_for("merchants.store_staff", store_id=store.id))


@bp.post("/merchant/stores/<int:store_id>/invitations/<int:invitation_id>/revoke")
@login_required
def revoke_invitation(store_id: int, invitation_id: int):
    store = services.get_store(actor(), store_id, manage=True)
    staff.revoke_invitation(current_user, store, invitation_id, clock.now())
    db.session.commit()
    flash(_("Invitation withdrawn: its link no longer works."), "success")
    return redirect(url_for("merchants.store_staff", store_id=store.id))


@bp.get("/me/invitations")
@login_required
def my_invitations():
    now = clock.now()
    return render_template("merchants/invitations.html", invitations=staff.invitations_for(current_user, now),
                           token=None, now=now)


@bp.get("/invitations/<token>")
@login_required
def invitation(token: str):
    """The page an invitation e-mail links to."""
    found = staff.invitation_by_token(token)
    return render_template("merchants/invitations.html", invitations=[found], token=token, now=clock.now())


@bp.post("/me/invitations/<int:invitation_id>/<any(accept, decline):answer>")
@login_required
def answer_invitation(invitation_id: int, answer: str):
    token = request.form.get("token") or None
    if answer == "accept":
        accepted = staff.accept_invitation(current_user, invitation_id, clock.now(), token)
        db.session.commit()
        flash(_("You now work at %(store)s: its bookings and check-in desk are under My stores.",
                store=accepted.store.name), "success")
        return redirect(url_for("merchants.dashboard"))
    staff.decline_invitation(current_user, invitation_id, clock.now(), token)
    db.session.commit()
    flash(_("Invitation declined."), "info")
    return redirect(url_for("merchants.my_invitations"))


@bp.get("/stores/<int:store_id>")
def store_page(store_id: int):
    store = services.get_store(actor(), store_id)
    point = LngLat.from_element(store.location)
    private = services.can_view_store_private(actor(), store)
    offerings = offerings_of_store(store, include_archived=private)
    pin = (point, Markup("<b>{}</b><br>{}").format(store.name, store.address), store.name)

    return render_template(
        "merchants/store.html", store=store, point=point, offerings=offerings,
        map=page_map(point, 16, [pin]), weekdays=WEEKDAYS,
        open_now=is_open_at(store, clock.now()),
        can_manage=services.can_manage_store(actor(), store),
    )

