"""Sign up, log in, log out (here or everywhere), change the password."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.auth import services
from app.auth.forms import LoginForm, PasswordForm, RegisterForm
from app.auth.security import REMEMBER_COOKIE, actor, begin_login, end_login
from app.errors import Unauthenticated, ValidationFailed
from app.extensions import db, limiter
from app.i18n import current as current_locale
from app.merchants.services import works_at_a_store
from app.redirects import safe_next
from app.web import apply_form_errors

bp = Blueprint("auth", __name__, url_prefix="/auth")


def _land(user) -> str:
    works = user.role == "merchant" or works_at_a_store(user)
    return url_for("merchants.dashboard") if works else url_for("discovery.home")


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def login():
    form = LoginForm(next=request.args.get("next", ""))
    if request.method == "GET" and "signup_email" in session:
        form.email.data = session.pop("signup_email")
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except Unauthenticated as exc:
            db.session.commit()  # the wrong password counts toward the account's lock
            form.password.errors.append(exc.message)
        else:
            begin_login(user, remember=form.remember.data)
            db.session.commit()
            flash(_("Welcome back, %(name)s.", name=user.display_name), "success")
            return redirect(safe_next(form.next.data, _land(user)))
    return render_template("auth/login.html", form=form), 200 if request.method == "GET" or not form.errors else 422


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10 per minute", methods=["POST"])
def register():
    form = RegisterForm(next=request.args.get("next", ""), role=request.args.get("role", "resident"))
    if form.validate_on_submit():
        try:
            services.register_user(form.email.data, form.password.data, form.display_name.data, form.role.data,
                                   locale=current_locale())
        except ValidationFailed as exc:
            apply_form_errors(form, exc)
        else:
            db.session.commit()
            # The same answer whether the address was new or already had an account: no logging in here.
            email = services.normalise_email(form.email.data)
            session["signup_email"] = email
            flash(_("Check your e-mail: we sent a message to %(email)s. If you have just created your account, "
                    "log in with your new password.", email=email), "info")
            default = url_for("merchants.new_business") if form.role.data == "merchant" else ""
            return redirect(url_for("auth.login", next=safe_next(form.next.data, default) or None))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    end_login()
    db.session.commit()
    flash(_("You are logged out."), "info")
    return redirect(url_for("discovery.home"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
@limiter.limit("10 per minute", methods=["POST"])
def account():
    form = PasswordForm()
    if form.validate_on_submit():
        user = actor()
        try:
            services.change_password(user, form.current_password.data, form.password.data)
        except ValidationFailed as exc:
            apply_form_errors(form, exc)
        else:
            begin_login(user, remember=REMEMBER_COOKIE in request.cookies)  # this browser stays logged in
            db.session.commit()
            flash(_("Your password is changed. Every other browser and every API token is logged out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form), 422 if form.errors else 200


@bp.post("/logout-everywhere")
@login_required
def logout_everywhere():
    services.log_out_everywhere(actor())
    end_login()
    db.session.commit()
    flash(_("You are logged out everywhere: every browser, and every API token."), "info")
    return redirect(url_for("discovery.home"))


@bp.get("/me")
@login_required
def me():
    return redirect(_land(current_user))
