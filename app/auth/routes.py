"""Sign up, log in, log out."""

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from app.auth import services
from app.auth.forms import LoginForm, RegisterForm
from app.errors import Conflict, Unauthenticated, ValidationFailed
from app.extensions import db, limiter
from app.web import apply_form_errors

bp = Blueprint("auth", __name__, url_prefix="/auth")


def safe_next(target: str | None, default: str) -> str:
    """Return target only when it points inside this site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") \
            or "\\" in target:
        return default
    return target


def _land(user) -> str:
    return url_for("merchants.dashboard") if user.role in ("merchant", "staff") else url_for("discovery.home")


def _start_session(user, remember: bool) -> None:
    session.clear()  # a fresh session on login: nothing planted before survives
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except Unauthenticated as exc:
            form.password.errors.append(exc.message)
        else:
            db.session.commit()
            _start_session(user, form.remember.data)
            flash(f"Welcome back, {user.display_name}.", "success")
            return redirect(safe_next(form.next.data, _land(user)))
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" or not form.errors else 422


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def register():
    form = RegisterForm(next=request.args.get("next", ""), role=request.args.get("role", "resident"))
    if form.validate_on_submit():
        try:
            user = services.register_user(form.email.data, form.password.data, form.display_name.data,
                                          form.role.data)
        except (ValidationFailed, Conflict) as exc:
            apply_form_errors(form, exc)
        else:
            db.session.commit()
            _start_session(user, False)
            flash("Your account is ready.", "success")
            default = url_for("merchants.new_business") if user.role == "merchant" else url_for("discovery.home")
            return redirect(safe_next(form.next.data, default))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("discovery.home"))


@bp.get("/me")
@login_required
def me():
    return redirect(_land(current_user))
