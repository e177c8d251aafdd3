from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.offerings.models import CATEGORY_LABELS, CURRENCIES


class OfferingForm(FlaskForm):
    title = StringField("Title", validators=[DataRequired(), Length(max=140)],
                        description="e.g. Hand-thrown tea cup, 2-hour beginners' class")
    category = SelectField("Category", choices=[SelectChoice(k.value, v) for k, v in CATEGORY_LABELS.items()])
    description = TextAreaField("What happens", validators=[Optional(), Length(max=5000)])
    is_free = BooleanField("Free")
    # Text, not DecimalField, so "12,5" or "abc" comes back with our message, not lost.
    price_amount = StringField("Price paid at the store", default="0",
                               description="Nothing is paid online; the visitor pays at your counter.")
    currency = SelectField("Currency", choices=[SelectChoice(c) for c in CURRENCIES], default="CNY")
    duration_min = IntegerField("Duration (minutes)", default=60, validators=[DataRequired(), NumberRange(5, 1440)])
    capacity = IntegerField("People per slot", default=1, validators=[DataRequired(), NumberRange(1, 1000)])
    cancel_cutoff_hours = IntegerField("Free cancellation until (hours before)", default=24,
                                       validators=[Optional(), NumberRange(0, 720)])
    policy_text = TextAreaField("Booking policy", validators=[Optional(), Length(max=2000)],
                                description="Shown before a resident books.")
    # On the new-experience page only; the edit page has the photo manager (app/media). Each file's type is
    # decided by decoding it, not by its name.
    photos = MultipleFileField("Photos (optional)", render_kw={"accept": "image/jpeg,image/png,image/webp"},
                               description="JPEG, PNG or WebP; the first one is the cover. You can add more, "
                                           "reorder and describe them later.")
