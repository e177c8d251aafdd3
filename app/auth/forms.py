from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from app.auth.passwords import MAX_PASSWORD, MIN_PASSWORD

PASSWORD_HINT = f"At least {MIN_PASSWORD} characters; not a common password, nor your e-mail or name."


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    remember = BooleanField("Keep me logged in")
    next = HiddenField()


class RegisterForm(FlaskForm):
    display_name = StringField("Your name", validators=[DataRequired(), Length(max=80)])
    email = EmailField("E-mail", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=MAX_PASSWORD)],
        description=PASSWORD_HINT)
    confirm = PasswordField("Repeat password", validators=[EqualTo("password", "Passwords differ.")])
    role = RadioField("I am", choices=[SelectChoice("resident", "looking for experiences"),
                                       SelectChoice("merchant", "a merchant listing my store")],
                      default="resident", validators=[DataRequired()])
    next = HiddenField()


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_PASSWORD)])
    password = PasswordField(
        "New password", validators=[DataRequired(), Length(min=MIN_PASSWORD, max=MAX_PASSWORD)],
        description=PASSWORD_HINT)
    confirm = PasswordField("Repeat new password", validators=[EqualTo("password", "Passwords differ.")])
