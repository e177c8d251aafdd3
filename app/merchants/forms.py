from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from app.merchants.models import BUSINESS_CATEGORY_LABELS

COMMON_TIMEZONES = [
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Tokyo", "Asia/Seoul", "Asia/Singapore",
    "Asia/Bangkok", "Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Paris", "Europe/Berlin",
    "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo",
    "Australia/Sydney", "Pacific/Auckland", "Africa/Johannesburg", "UTC",
]

class MaxLength(Length):
    """Length(max=…) checked on the server only: no ``maxlength`` attribute, so a browser never cuts a long
    name silently and the form says what is wrong instead (issue 11)."""

    def __init__(self, max: int, message=None) -> None:  # noqa: A002 (WTForms' own parameter name)
        super().__init__(max=max, message=message or _l("At most %(max)d characters (this has %(length)d)."))
        self.field_flags = {}

    def __call__(self, form, field) -> None:
        length = len(field.data or "")
        if length > self.max:
            raise ValidationError(self.message % {"max": self.max, "length": length})


class BusinessForm(FlaskForm):
    name = StringField(_l("Business name"), validators=[DataRequired(), MaxLength(120)])
    category = SelectField(_l("Category"),
                           choices=[SelectChoice(k.value, v) for k, v in BUSINESS_CATEGORY_LABELS.items()])
    phone = StringField(_l("Phone"), validators=[Optional(), MaxLength(40)])
    description = TextAreaField(_l("About the business"), validators=[Optional(), MaxLength(4000)])


class StoreForm(FlaskForm):
    name = StringField(_l("Store name"), validators=[DataRequired(), MaxLength(120)])
    address = StringField(_l("Address"), validators=[Optional(), MaxLength(255)],
                          description=_l("As customers should read it, e.g. 杭州市西湖区南山路 12 号"))
    # Text fields so a bad value comes back with our own message instead of being lost.
    lat = StringField(_l("Latitude"), validators=[DataRequired(_l("Click the map or type a latitude."))])
    lng = StringField(_l("Longitude"), validators=[DataRequired(_l("Click the map or type a longitude."))])
    timezone = StringField(_l("Time zone"), default="Asia/Shanghai", validators=[DataRequired(), Length(max=64)],
                           description=_l("IANA name, e.g. Asia/Shanghai"))
    geofence_m = IntegerField(_l("Check-in radius (metres)"), default=150,
                              validators=[Optional(), NumberRange(10, 5000, _l("From %(min)s to %(max)s metres."))])


class HoursExceptionForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired(_l("Give a valid date."))])
    # Not ticked by default: a ticked box would silently throw away the hours typed (issue 11, bug 2).
    is_closed = BooleanField(_l("Closed all day"), default=False)
    opens = StringField(_l("Opens"), validators=[Optional(), Length(max=5)])
    closes = StringField(_l("Closes"), validators=[Optional(), Length(max=5)])
    note = StringField(_l("Note"), validators=[Optional(), MaxLength(120)], description=_l("e.g. Spring Festival"))


class StaffForm(FlaskForm):
    email = EmailField(_l("Staff member's e-mail"), validators=[DataRequired(), Length(max=254)],
                       description=_l("We e-mail them an invitation; they join when they accept it."))
