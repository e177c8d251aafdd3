"""Onsite speaks English and Chinese: who chooses, how it sticks, and that zh_CN is complete."""

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.extensions import db as _db
from tests import factories as f

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "app" / "translations" / "zh_CN" / "LC_MESSAGES" / "messages.po"
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


def lang_of(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True)).group(1)


def catalogue():
    with PO.open("rb") as handle:
        return read_po(handle, locale="zh_CN")


# ---- who chooses ------------------------------------------------------------------------------------

def test_english_by_default_and_chinese_for_a_chinese_browser(client, db):
    assert lang_of(client.get("/auth/login")) == "en"
    page = client.get("/auth/login", headers=ZH)
    assert lang_of(page) == "zh-CN"
    assert "登录" in page.get_data(as_text=True)


def test_a_browser_that_prefers_a_language_onsite_lacks_gets_its_next_choice(client, db):
    assert lang_of(client.get("/auth/login", headers={"Accept-Language": "fr-FR,fr;q=0.9,zh;q=0.5"})) == "zh-CN"
    assert lang_of(client.get("/auth/login", headers={"Accept-Language": "fr-FR,de;q=0.9"})) == "en"


def test_lang_in_the_url_wins_over_the_browser_and_sticks_in_a_cookie(client, db):
    first = client.get("/auth/login?lang=zh_CN", headers={"Accept-Language": "en"})
    assert lang_of(first) == "zh-CN"
    assert "lang=zh_CN" in first.headers["Set-Cookie"]
    assert lang_of(client.get("/auth/login", headers={"Accept-Language": "en"})) == "zh-CN"
    assert lang_of(client.get("/auth/login?lang=en", headers=ZH)) == "en"
    assert lang_of(client.get("/auth/login", headers=ZH)) == "en"


def test_an_unknown_lang_is_ignored_not_an_error(client, db):
    page = client.get("/auth/login?lang=<script>", headers={"Accept-Language": "en"})
    assert page.status_code == 200 and lang_of(page) == "en"
    assert "Set-Cookie" not in page.headers or "lang=" not in page.headers["Set-Cookie"]


def test_the_switch_sets_the_cookie_and_returns_to_the_page_without_an_old_lang(client, auth, db):
    answer = auth.post("/language", {"lang": "zh_CN", "next": "/explore?q=tea&lang=en"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/explore?q=tea"
    assert "lang=zh_CN" in answer.headers["Set-Cookie"]
    assert lang_of(client.get("/auth/login")) == "zh-CN"


def test_the_switch_never_sends_off_the_site(client, auth, db):
    answer = auth.post("/language", {"lang": "en", "next": "https://evil.example/"})
    assert answer.headers["Location"] == "/"


def test_a_signed_in_users_choice_is_saved_and_follows_them_to_another_browser(app, client, auth, db):
    user = f.create_user(email="wang@example.com")
    auth.login("wang@example.com")
    auth.post("/language", {"lang": "zh_CN", "next": "/me/visits"})
    _db.session.refresh(user)
    assert user.locale == "zh_CN"
    other = app.test_client()
    other.post("/auth/login", data={"email": "wang@example.com", "password": "password123",
                                    "csrf_token": _csrf(other)})
    page = other.get("/me/visits", headers={"Accept-Language": "en"})
    assert lang_of(page) == "zh-CN"
    assert "我的预约" in page.get_data(as_text=True)


def _csrf(client) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/auth/login").get_data(as_text=True)).group(1)


def test_the_switch_needs_its_csrf_token(client, db):
    answer = client.post("/language", data={"lang": "zh_CN"})
    assert "lang=zh_CN" not in answer.headers.get("Set-Cookie", "")
    assert lang_of(client.get("/auth/login")) == "en"


def test_every_page_offers_the_other_language(client, db):
    english = client.get("/auth/login").get_data(as_text=True)
    chinese = client.get("/auth/login", headers=ZH).get_data(as_text=True)
    assert 'value="zh_CN" lang="zh-CN">中文</button>' in english
    assert 'value="en" lang="en">English</button>' in chinese


# ---- scripts read the same catalogue ----------------------------------------------------------------

def page_catalogue(response) -> dict:
    text = response.get_data(as_text=True)
    return json.loads(re.search(r'<script type="application/json" id="i18n-catalogue"[^>]*>(.*?)</script>',
                                text, re.S).group(1))


def test_pages_carry_the_scripts_translations_in_the_pages_language(client, db):
    english = page_catalogue(client.get("/auth/login"))
    assert english == {"locale": "en", "plural": "en", "messages": {}}
    chinese = page_catalogue(client.get("/auth/login", headers=ZH))
    assert chinese["locale"] == "zh-CN" and chinese["plural"] == "one"
    script_ids = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue()
                  if m.id and any(path.endswith(".js") for path, _ in m.locations)}
    assert script_ids, "no string of app/static/js is in the catalogue"
    assert set(chinese["messages"]) == script_ids
    assert all(isinstance(text, str | list) and text for text in chinese["messages"].values())


# ---- zh_CN is complete ------------------------------------------------------------------------------

def extracted_ids() -> set[str]:
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def test_every_extracted_string_is_in_the_catalogue_and_translated():
    catalogue_ids = {}
    for message in catalogue():
        if message.id:
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            catalogue_ids[key] = not message.fuzzy and all(strings)
    extracted = extracted_ids()
    assert len(extracted) > 100
    missing = sorted(extracted - set(catalogue_ids))
    assert not missing, f"run `make i18n`: {len(missing)} strings are not in the catalogue, e.g. {missing[:10]}"
    untranslated = sorted(key for key in extracted if not catalogue_ids[key])
    assert not untranslated, f"{len(untranslated)} strings lack a zh_CN translation (or are fuzzy): {untranslated[:10]}"


def test_translations_keep_their_placeholders():
    for message in catalogue():
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)[sd]", ids[0])) | (set(re.findall(r"%\(\w+\)[sd]", ids[-1])) - {"%(num)d"})
        for text in strings:
            if text:
                got = set(re.findall(r"%\(\w+\)[sd]", text))
                assert wanted - {"%(num)d", "%(num)s"} <= got <= wanted | {"%(num)d", "%(num)s"}, (ids[0], text)


# ---- pages rendered in Chinese show no string of the English catalogue -----------------------------

class TextNodes(HTMLParser):
    def __init__(self):
        super().__init__()
        self.nodes, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in ("placeholder", "title", "aria-label", "alt") and value:
                self.nodes.append(value.strip())

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.nodes.append(" ".join(data.split()))


def english_only_strings() -> set[str]:
    """Catalogue strings that a translated page must not show as they are (those that differ in Chinese)."""
    found = set()
    for message in catalogue():
        if message.id and isinstance(message.id, str) and message.string and message.string != message.id \
                and "%(" not in message.id and re.search(r"[A-Za-z]{3}", message.id):
            found.add(" ".join(message.id.split()))
    return found


def untranslated_on(html: str, english: set[str]) -> list[str]:
    parser = TextNodes()
    parser.feed(html)
    return sorted({node for node in parser.nodes if node in english})


@pytest.fixture
def city(db):
    merchant = f.create_merchant(email="boss@example.com")
    store = f.create_store(f.create_business(merchant), name="西湖茶馆")
    offering = f.create_offering(store, title="龙井茶艺体验")
    resident = f.create_user(email="li@example.com")
    slot = f.create_slot(offering)
    booking = f.create_booking(slot, resident)
    admin = f.create_user(role="admin", email="ops@example.com")
    return {"merchant": merchant, "store": store, "offering": offering, "resident": resident, "booking": booking,
            "admin": admin}


def pages_of(role: str, city: dict) -> list[str]:
    store, offering, booking = city["store"].id, city["offering"].id, city["booking"].id
    anonymous = ["/", "/explore", "/auth/login", "/auth/register", f"/experiences/{offering}", f"/stores/{store}",
                 f"/experiences/{offering}/reviews", f"/stores/{store}/reviews"]
    resident = anonymous[:2] + ["/me/visits", "/me/inbox", "/auth/account", f"/bookings/{booking}",
                                f"/experiences/{offering}", "/me/compensation", "/me/invitations"]
    merchant = ["/merchant/", f"/merchant/stores/{store}/hours", f"/merchant/stores/{store}/staff",
                f"/merchant/stores/{store}/edit", f"/merchant/experiences/{offering}/edit",
                f"/merchant/stores/{store}/experiences/new", f"/merchant/experiences/{offering}/schedule",
                f"/merchant/stores/{store}/checkin", f"/merchant/stores/{store}/bookings", f"/bookings/{booking}",
                f"/merchant/businesses/{city['store'].business_id}/stores/new", "/merchant/reviews",
                f"/merchant/stores/{store}/dashboard", f"/merchant/stores/{store}/demand",
                f"/merchant/stores/{store}/disputes", f"/merchant/businesses/{city['store'].business_id}/ledger"]
    admin = ["/operator/disputes", "/admin/demand", "/explore"]
    return {"anonymous": anonymous, "resident": resident, "merchant": merchant, "admin": admin}[role]


@pytest.mark.parametrize("role", ["anonymous", "resident", "merchant", "admin"])
def test_pages_in_chinese_show_no_untranslated_catalogue_string(client, auth, city, role):
    if role != "anonymous":
        auth.login(city[role].email)
    english = english_only_strings()
    shown = 0
    for path in pages_of(role, city):
        response = client.get(path, headers=ZH)
        if response.status_code != 200:
            continue
        shown += 1
        html = response.get_data(as_text=True)
        assert lang_of(response) == "zh-CN", path
        assert not untranslated_on(html, english), (path, untranslated_on(html, english))
    assert shown == len(pages_of(role, city)), "every page of the role renders"
