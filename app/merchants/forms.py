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
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.merchants.models import BUSINESS_CATEGORY_LABELS

COMMON_TIMEZONES = [
    "Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Tokyo", "Asia/Seoul", "Asia/Singapore",
    "Asia/Bangkok", "Asia/Kolkata", "Asia/Dubai", "Europe/London", "Europe/Paris", "Europe/Berlin",
    "America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo",
    "Australia/Sydney", "Pacific/Auckland", "Africa/Johannesburg", "UTC",
]


class BusinessForm(FlaskForm):
    name = StringField("Business name", validators=[DataRequired(), Length(max=120)])
    category = SelectField("Category", choices=[SelectChoice(k.value, v) for k, v in BUSINESS_CATEGORY_LABELS.items()])
    phone = StringField("Phone", validators=[Optional(), Length(max=40)])
    description = TextAreaField("About the business", validators=[Optional(), Length(max=4000)])


class StoreForm(FlaskForm):
    name = StringField("Store name", validators=[DataRequired(), Length(max=120)])
    address = StringField("Address", validators=[Optional(), Length(max=255)],
                          description="As customers should read it, e.g. 杭州市西湖区南山路 12 号")
    # Text fields so a bad value comes back with our own message instead of being lost.
    lat = StringField("Latitude", validators=[DataRequired("Click the map or type a latitude.")])
    lng = StringField("Longitude", validators=[DataRequired("Click the map or type a longitude.")])
    timezone = StringField("Time zone", default="Asia/Shanghai", validators=[DataRequired(), Length(max=64)],
                           description="IANA name, e.g. Asia/Shanghai")
    geofence_m = IntegerField("Check-in radius (metres)", default=150,
                              validators=[Optional(), NumberRange(10, 5000)])


class HoursExceptionForm(FlaskForm):
    day = DateField("Date", validators=[DataRequired()])
    is_closed = BooleanField("Closed all day", default=True)
    opens = StringField("Opens", validators=[Optional(), Length(max=5)])
    closes = StringField("Closes", validators=[Optional(), Length(max=5)])
    note = StringField("Note", validators=[Optional(), Length(max=120)], description="e.g. Spring Festival")


class StaffForm(FlaskForm):
    email = EmailField("Staff member's e-mail", validators=[DataRequired(), Length(max=254)],
                       description="We e-mail them an invitation; they join when they accept it.")
