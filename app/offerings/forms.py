from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import BooleanField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.merchants.forms import MaxLength
from app.offerings.models import CATEGORY_LABELS, CURRENCIES


class OfferingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), MaxLength(140)],
                        description=_l("e.g. Hand-thrown tea cup, 2-hour beginners' class"))
    category = SelectField(_l("Category"), choices=[SelectChoice(k.value, v) for k, v in CATEGORY_LABELS.items()])
    description = TextAreaField(_l("What happens"), validators=[Optional(), MaxLength(5000)])
    is_free = BooleanField(_l("Free"))
    # Text, not DecimalField, so "12,5" or "abc" comes back with our message, not lost.
    price_amount = StringField(_l("Price paid at the store"), default="0",
                               description=_l("Nothing is paid online; the visitor pays at your counter."))
    currency = SelectField(_l("Currency"), choices=[SelectChoice(c) for c in CURRENCIES], default="CNY")
    duration_min = IntegerField(_l("Duration (minutes)"), default=60, validators=[DataRequired(), NumberRange(5, 1440)])
    capacity = IntegerField(_l("People per slot"), default=1, validators=[DataRequired(), NumberRange(1, 1000)])
    cancel_cutoff_hours = IntegerField(_l("Free cancellation until (hours before)"), default=24,
                                       validators=[Optional(), NumberRange(0, 720)])
    policy_text = TextAreaField(_l("Booking policy"), validators=[Optional(), MaxLength(2000)],
                                description=_l("Shown before a resident books."))
    # On the new-experience page only; the edit page has the photo manager (app/media). Each file's type is
    # decided by decoding it, not by its name.
    photos = MultipleFileField(_l("Photos (optional)"), render_kw={"accept": "image/jpeg,image/png,image/webp"},
                               description=_l("JPEG, PNG or WebP; the first one is the cover. You can add more, "
                                              "reorder and describe them later."))
