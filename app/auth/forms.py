from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.auth.passwords import MAX_PASSWORD, MIN_PASSWORD

PASSWORD_HINT = _l("At least %(min)d characters; not a common password, nor your e-mail or name.", min=MIN_PASSWORD)
PASSWORDS_DIFFER = _l("Passwords differ.")


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    remember = BooleanField(_l("Keep me logged in"))
    next = HiddenField()


class RegisterForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=80)])
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=MAX_PASSWORD)],
        description=PASSWORD_HINT)
    confirm = PasswordField(_l("Repeat password"), validators=[EqualTo("password", PASSWORDS_DIFFER)])
    role = RadioField(_l("I am"), choices=[SelectChoice("resident", _l("looking for experiences")),
                                           SelectChoice("merchant", _l("a merchant listing my store"))],
                      default="resident", validators=[DataRequired()])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    password = PasswordField(
        _l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD, max=MAX_PASSWORD)],
        description=PASSWORD_HINT)
    confirm = PasswordField(_l("Repeat new password"), validators=[EqualTo("password", PASSWORDS_DIFFER)])
