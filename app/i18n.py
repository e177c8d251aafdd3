"""The language of a request, and how times, distances and prices read in it.

Which language (first that applies): the signed-in user's saved preference, ``?lang=`` (which also
sets a cookie), that cookie, the browser's ``Accept-Language``, ``BABEL_DEFAULT_LOCALE``. The header's
switch posts to ``/language``, which sets the cookie and saves the preference of a signed-in user.
Notices and e-mails are written in their recipient's language (``in_locale_of``).

JavaScript reads its strings from the same catalogue: the page carries the translations of the
messages found in ``app/static/js`` (``js_catalogue``), and ``static/js/i18n.js`` gives them to scripts.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

from babel import Locale, support
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from flask import Blueprint, Flask, g, has_app_context, has_request_context, redirect, request
from flask_babel import Domain, force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.redirects import safe_next

LOCALES = ("en", "zh_CN")
LANGUAGE_NAMES = {"en": "English", "zh_CN": "中文"}  # each in its own language: never translated
COOKIE = "lang"
COOKIE_AGE = 365 * 24 * 3600
TRANSLATIONS = Path(__file__).resolve().parent / "translations"

# Babel patterns per style; zh_CN reads 11月28日 周六 14:00, on a 24-hour clock in both.
PATTERNS = {
    "en": {"time": "HH:mm", "day": "EEE d MMM", "daytime": "EEE d MMM, HH:mm", "date": "d MMM y",
           "long": "EEEE d MMMM y, HH:mm", "longday": "EEEE d MMMM y", "weekday": "EEEE"},
    "zh_CN": {"time": "HH:mm", "day": "M月d日 EEE", "daytime": "M月d日 EEE HH:mm", "date": "y年M月d日",
              "long": "y年M月d日 EEEE HH:mm", "longday": "y年M月d日 EEEE", "weekday": "EEEE"},
}

bp = Blueprint("language", __name__)


def normalise(value: str | None) -> str | None:
    """Map what a URL, cookie or form says (``zh``, ``zh-CN``, ``zh_Hans``, ``en-GB``…) to a locale, or None."""
    if not value or len(value) > 20:
        return None
    tag = value.strip().replace("-", "_").lower()
    if tag == "zh" or tag.startswith(("zh_cn", "zh_hans", "zh_sg")):
        return "zh_CN"
    if tag == "en" or tag.startswith("en_"):
        return "en"
    return None


def select_locale() -> str:
    """Babel's locale selector (see the module's docstring for the order)."""
    if not has_request_context():
        return LOCALES[0]
    asked = normalise(request.args.get("lang"))
    if asked:
        g.lang_cookie = asked
    try:
        saved = normalise(getattr(current_user, "locale", None)) if current_user.is_authenticated else None
    except Exception:  # noqa: BLE001 - the database is down (a 503 page still renders, in the default)
        saved = None
    return saved or asked or normalise(request.cookies.get(COOKIE)) or _best_accepted() or LOCALES[0]


def _best_accepted() -> str | None:
    """The first language of Accept-Language (highest quality first) that Onsite speaks."""
    for value, _quality in request.accept_languages:
        found = normalise(value)
        if found:
            return found
    return None


def current() -> str:
    """The locale of this request ("en" or "zh_CN")."""
    return normalise(str(get_locale() or "")) or LOCALES[0]  # Babel names zh_CN "zh_Hans_CN"


def html_lang() -> str:
    """The BCP-47 tag for <html lang> and JavaScript's Intl ("en", "zh-CN")."""
    return current().replace("_", "-")


def user_locale(user: Any) -> str:
    """The language to write to this person in: their saved preference, else the site's default."""
    return normalise(getattr(user, "locale", None)) or LOCALES[0]


@functools.cache
def parsed(tag: str) -> Locale:
    """Babel's Locale for one of ours, parsed once (parsing zh_CN takes Babel ~0.13 ms: every notice paid it)."""
    return Locale.parse(tag)


def babel_locale() -> Locale:
    """Flask-Babel's locale selector: ``select_locale``, parsed once per language rather than per request."""
    return parsed(select_locale())


@contextlib.contextmanager
def in_locale_of(user: Any) -> Iterator[None]:
    """Write a notice or e-mail in its recipient's language, whoever's request causes it."""
    with force_locale(parsed(user_locale(user))):
        yield


def _zone(zone: str | tzinfo | None) -> tzinfo:
    if zone is None:
        return ZoneInfo("UTC")
    return zone if isinstance(zone, tzinfo) else ZoneInfo(zone)


def format_when(moment: datetime, zone: str | tzinfo | None = None, style: str = "daytime") -> str:
    """An instant as the store's clock reads it, in the request's language (styles: see PATTERNS)."""
    locale = current()
    return format_datetime(moment.astimezone(_zone(zone)), PATTERNS[locale][style], locale=parsed(locale))


def format_day(day: date, style: str = "day") -> str:
    """A calendar day (no zone) in the request's language: "day", "date", "long" or "weekday"."""
    locale = current()
    return format_date(day, PATTERNS[locale]["longday" if style == "long" else style], locale=parsed(locale))


def format_distance(metres: float | Decimal | None) -> str:
    """350 m, 1.2 km (350 米, 1.2 公里)."""
    if metres is None:
        return ""
    metres = float(metres)
    if metres < 1000:
        return _("%(n)s m", n=format_decimal(round(metres / 10) * 10 if metres >= 100 else round(metres),
                                             locale=parsed(current())))
    return _("%(n)s km", n=format_decimal(round(metres / 1000, 1), format="#,##0.#", locale=parsed(current())))


@cache
def _js_messages(locale: str) -> dict[str, Any]:
    """The translations of the messages JavaScript uses, read from the .po the .mo is built from."""
    from babel.messages.pofile import read_po

    po = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    if locale == LOCALES[0] or not po.exists():
        return {}
    with po.open("rb") as handle:
        catalogue = read_po(handle, locale=locale)
    found: dict[str, Any] = {}
    for message in catalogue:
        if not message.id or message.fuzzy or not any(path.endswith(".js") for path, _line in message.locations):
            continue
        if isinstance(message.id, tuple):
            forms = [text for text in message.string if text]
            if forms:
                found[message.id[0]] = forms
        elif message.string:
            found[message.id] = message.string
    return found


def js_catalogue() -> dict[str, Any]:
    """What static/js/i18n.js needs: the locale's tag, its plural rule's name, the translations."""
    locale = current()
    return {"locale": html_lang(), "plural": "one" if locale == "zh_CN" else "en",
            "messages": _js_messages(locale)}


def remember_locale(user: Any, locale: str) -> None:
    """Save a signed-in user's language (flushes; the caller commits)."""
    from app.extensions import db

    user.locale = locale
    db.session.flush()


@bp.post("/language")
def choose():
    """The header's language switch: a cookie for everyone, the saved preference for a signed-in user."""
    from app.extensions import db

    locale = normalise(request.form.get("lang")) or LOCALES[0]
    if current_user.is_authenticated:
        remember_locale(current_user, locale)
        db.session.commit()
    target = urlsplit(safe_next(request.form.get("next"), "/", host=request.host))
    query = urlencode([(key, value) for key, value in parse_qsl(target.query, keep_blank_values=True)
                       if key != "lang"])  # an old ?lang= would override the choice just made
    response = redirect(urlunsplit(("", "", target.path, query, target.fragment)))
    response.set_cookie(COOKIE, locale, max_age=COOKIE_AGE, samesite="Lax", secure=request.is_secure)
    return response


class Catalogues(Domain):
    """Flask-Babel's domain, finding catalogues by our locale names.

    Flask-Babel looks a catalogue up by Babel's full name of the locale ("zh_Hans_CN"), which never finds
    ``translations/zh_CN``: every page would silently stay English.
    """

    def get_translations(self) -> support.NullTranslations:
        if not has_app_context():
            return support.NullTranslations()
        locale = current()
        cache = self.get_translations_cache(None)
        key = (locale, self.domain[0])
        if key not in cache:
            translations = support.Translations()
            for dirname in self.translation_directories:
                catalogue = support.Translations.load(dirname, [locale], self.domain[0])
                translations.merge(catalogue)
                if hasattr(catalogue, "plural"):  # merge() drops the plural rule
                    translations.plural = catalogue.plural
            cache[key] = translations
        return cache[key]


def init_i18n(app: Flask) -> None:
    """Template helpers and the ?lang= cookie; the Babel extension itself is bound in create_app."""
    from app.extensions import babel

    babel.domain_instance = Catalogues(domain=app.config.get("BABEL_DOMAIN", "messages"))
    app.jinja_env.filters.update(when=format_when, day=format_day, distance=format_distance)
    app.jinja_env.globals.update(html_lang=html_lang, js_catalogue=js_catalogue, current_locale=current,
                                 LANGUAGE_NAMES=LANGUAGE_NAMES, LOCALES=LOCALES)

    @app.after_request
    def remember_asked_language(response):
        asked = g.pop("lang_cookie", None)
        if asked and request.cookies.get(COOKIE) != asked:
            response.set_cookie(COOKIE, asked, max_age=COOKIE_AGE, samesite="Lax", secure=request.is_secure)
        return response

    app.register_blueprint(bp)
