"""Account security through the test client: logins that end, remember-me tokens kept server-side,
"log out everywhere", password rules, sign-up that reveals no account, the per-account login lock,
CSRF tokens that expire and an inbox whose GET changes nothing (issue 10: findings 1, 3, 7 and 10)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from app.auth.models import ApiToken, RememberToken, User
from bookings import services as booking_services
from bookings.models import Notification, OutboxEmail
from tests import factories as f

REMEMBER = "onsite_remember"
WRONG = "E-mail or password is wrong."


def _html(response) -> str:
    return unescape(response.get_data(as_text=True))


def _login(auth, email: str, password: str = f.PASSWORD, *, remember: bool = False, **kwargs):
    data = {"email": email, "password": password, "csrf_token": auth.csrf()}
    if remember:
        data["remember"] = "y"
    return auth.client.post("/auth/login", data=data, **kwargs)


def _cookie(client, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie is not None else None


def _is_logged_in(client) -> bool:
    """Ask a page that needs a login: 200 when logged in, a redirect to the login page otherwise."""
    response = client.get("/me/visits")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _fresh_client(app, **cookies):
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _mails(db, email: str) -> list[OutboxEmail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_email == email)
                                   .order_by(OutboxEmail.id)))


def _notices(db, user: User, kind: str) -> list[Notification]:
    db.session.expire_all()
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                              Notification.kind == kind)))


# == finding 1: logout logs out ==================================================================

def test_logout_after_keep_me_logged_in_logs_out(auth, db):
    f.create_user(email="res@example.com")
    assert _login(auth, "res@example.com", remember=True).status_code == 302
    assert _cookie(auth.client, REMEMBER)
    assert _is_logged_in(auth.client)

    response = auth.logout()
    assert response.status_code == 302
    assert any(h.startswith(f"{REMEMBER}=;") for h in response.headers.getlist("Set-Cookie"))
    assert _cookie(auth.client, REMEMBER) is None
    assert not _is_logged_in(auth.client)


def test_a_copied_remember_cookie_is_dead_after_logout(app, auth, db):
    f.create_user(email="res@example.com")
    _login(auth, "res@example.com", remember=True)
    copied = _cookie(auth.client, REMEMBER)
    assert _is_logged_in(_fresh_client(app, **{REMEMBER: copied}))  # it did work: it is a real login
    stolen = _cookie(auth.client, REMEMBER)
    auth.logout()
    assert not _is_logged_in(_fresh_client(app, **{REMEMBER: stolen}))


def test_a_copied_session_cookie_is_dead_after_logout(app, auth, db):
    f.create_user(email="res@example.com")
    _login(auth, "res@example.com")
    copied = _cookie(auth.client, "session")
    assert _is_logged_in(_fresh_client(app, session=copied))
    auth.logout()
    assert not _is_logged_in(_fresh_client(app, session=copied))


def test_logging_out_one_browser_leaves_the_others_logged_in(app, auth, db):
    f.create_user(email="res@example.com")
    other = app.test_client()
    other_auth = type(auth)(other)
    assert other_auth.login("res@example.com").status_code == 302
    _login(auth, "res@example.com")
    auth.logout()
    assert _is_logged_in(other)


def test_remember_tokens_are_stored_hashed_and_rotated_on_use(app, auth, db, clock):
    user = f.create_user(email="res@example.com")
    _login(auth, "res@example.com", remember=True)
    first = _cookie(auth.client, REMEMBER)
    stored = db.session.scalars(select(RememberToken.token_hash).where(RememberToken.user_id == user.id)).all()
    assert stored == [hashlib.sha256(first.encode()).hexdigest()]  # only the digest is kept

    browser = _fresh_client(app, **{REMEMBER: first})  # the browser was closed: only the remember cookie is left
    assert _is_logged_in(browser)
    second = _cookie(browser, REMEMBER)
    assert second and second != first
    assert _is_logged_in(_fresh_client(app, **{REMEMBER: second}))


def test_a_rotated_remember_token_used_again_ends_every_login(app, auth, db, clock):
    f.create_user(email="res@example.com")
    _login(auth, "res@example.com", remember=True)
    copied = _cookie(auth.client, REMEMBER)
    thief = _fresh_client(app, **{REMEMBER: copied})
    assert _is_logged_in(thief)  # the thief used it first; the token rotated
    clock.advance(timedelta(minutes=5))
    owner = _fresh_client(app, **{REMEMBER: copied})
    assert not _is_logged_in(owner)  # the old token came back: someone holds a copy
    assert not _is_logged_in(thief)  # so every login of the account ends, the thief's too
    assert not _is_logged_in(auth.client)


def test_log_out_everywhere_from_the_account_page(app, auth, db):
    user = f.create_user(email="res@example.com")
    phone = app.test_client()
    phone_auth = type(auth)(phone)
    phone_auth.client.post("/auth/login", data={"email": "res@example.com", "password": f.PASSWORD,
                                                "remember": "y", "csrf_token": phone_auth.csrf()})
    phone_remember = _cookie(phone, REMEMBER)
    token = f.token_for(user)
    _login(auth, "res@example.com")
    page = _html(auth.client.get("/auth/account"))
    assert "Log out everywhere" in page

    response = auth.post("/auth/logout-everywhere")
    assert response.status_code == 302
    assert not _is_logged_in(auth.client)
    assert not _is_logged_in(phone)
    assert not _is_logged_in(_fresh_client(app, **{REMEMBER: phone_remember}))
    assert app.test_client().get("/api/v1/businesses", headers=token).status_code == 401
    assert _login(auth, "res@example.com").status_code == 302  # a new login works


def test_log_out_everywhere_through_the_api(app, auth, client, db):
    user = f.create_merchant(email="owner@example.com")
    token, other_token = f.token_for(user), f.token_for(user)
    _login(auth, "owner@example.com")
    response = client.post("/api/v1/auth/logout-everywhere", headers=token)
    assert response.status_code == 204
    for headers in (token, other_token):
        assert client.get("/api/v1/businesses", headers=headers).status_code == 401
    assert not _is_logged_in(auth.client)
    assert _count(db, ApiToken, ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)) == 0


def test_log_out_everywhere_needs_a_login(client, db):
    assert client.post("/api/v1/auth/logout-everywhere").status_code == 401


def test_a_session_carries_the_epoch_of_its_account(auth, db):
    user = f.create_user(email="res@example.com")
    _login(auth, "res@example.com")
    assert _is_logged_in(auth.client)
    user.session_epoch += 1
    db.session.flush()
    assert not _is_logged_in(auth.client)


def test_changing_the_password_ends_every_other_login(app, auth, db):
    user = f.create_user(email="res@example.com", display_name="Res")
    laptop = app.test_client()
    laptop_auth = type(auth)(laptop)
    laptop.post("/auth/login", data={"email": "res@example.com", "password": f.PASSWORD, "remember": "y",
                                     "csrf_token": laptop_auth.csrf()})
    laptop_remember = _cookie(laptop, REMEMBER)
    token = f.token_for(user)
    _login(auth, "res@example.com")

    wrong = auth.post("/auth/account", {"current_password": "not-it-at-all", "password": "violet harbour 42",
                                        "confirm": "violet harbour 42"})
    assert wrong.status_code == 422 and "Your current password is wrong." in _html(wrong)
    response = auth.post("/auth/account", {"current_password": f.PASSWORD, "password": "violet harbour 42",
                                           "confirm": "violet harbour 42"})
    assert response.status_code == 302
    assert _is_logged_in(auth.client)  # this browser stays logged in
    assert not _is_logged_in(laptop)
    assert not _is_logged_in(_fresh_client(app, **{REMEMBER: laptop_remember}))
    assert app.test_client().get("/api/v1/businesses", headers=token).status_code == 401
    assert _notices(db, user, "password_changed")
    auth.logout()
    assert _login(auth, "res@example.com").status_code == 422
    assert _login(auth, "res@example.com", "violet harbour 42").status_code == 302


def test_a_new_password_follows_the_rules_too(auth, db):
    f.create_user(email="res@example.com", display_name="Res")
    _login(auth, "res@example.com")
    response = auth.post("/auth/account", {"current_password": f.PASSWORD, "password": "iloveyou",
                                           "confirm": "iloveyou"})
    assert response.status_code == 422
    assert "too common" in _html(response)


# == finding 7: passwords and enumeration ========================================================

COMMON = ["12345678", "password", "Password", "iloveyou", "qwertyuiop", "password1", "PASSWORD123"]
CONTEXT = [("        ", "only spaces"), ("aaaaaaaaaaaa", "one character"), ("Mei.Wong@example.com", "e-mail"),
           ("mei.wong-2026", "e-mail"), ("Lin Mei 1990", "name"), ("linmei!!", "name")]


@pytest.mark.parametrize("password", COMMON)
def test_register_api_refuses_common_passwords(client, db, password):
    response = client.post("/api/v1/auth/register", json={
        "email": "mei.wong@example.com", "password": password, "display_name": "Lin Mei"})
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"
    assert "too common" in str(response.json["error"]["details"]["password"])
    assert _count(db, User, User.email == "mei.wong@example.com") == 0


@pytest.mark.parametrize("password, why", CONTEXT, ids=[c[1] + ":" + c[0].strip() for c in CONTEXT])
def test_register_api_refuses_passwords_made_of_the_account(client, db, password, why):
    response = client.post("/api/v1/auth/register", json={
        "email": "mei.wong@example.com", "password": password, "display_name": "Lin Mei"})
    assert response.status_code == 422
    assert list(response.json["error"]["details"]) == ["password"]
    assert _count(db, User, User.email == "mei.wong@example.com") == 0


def test_register_page_says_why_a_password_is_refused(auth, db):
    response = auth.client.post("/auth/register", data={
        "display_name": "Mei", "email": "mei@example.com", "password": "password", "confirm": "password",
        "role": "resident", "csrf_token": auth.csrf("/auth/register")})
    assert response.status_code == 422
    assert re.search(r'data-field="password">[^<]*too common', _html(response))


def test_a_good_password_is_accepted(client, db):
    response = client.post("/api/v1/auth/register", json={
        "email": "mei.wong@example.com", "password": "violet harbour 42", "display_name": "Lin Mei"})
    assert response.status_code == 201


def _register_api(client, email: str, **kw):
    return client.post("/api/v1/auth/register", json={
        "email": email, "password": "violet harbour 42", "display_name": "Someone", **kw})


def test_register_api_answers_the_same_whether_or_not_the_email_has_an_account(client, db):
    owner = f.create_user(email="taken@example.com")
    new = _register_api(client, "fresh@example.com")
    taken = _register_api(client, "Taken@Example.com")
    assert new.status_code == taken.status_code == 201
    assert set(new.json) == set(taken.json)
    assert new.json["message"] == taken.json["message"]
    assert _count(db, User, User.email == "taken@example.com") == 1
    db.session.refresh(owner)
    assert owner.display_name != "Someone"
    (attempt,) = _mails(db, "taken@example.com")
    assert "tried to sign up" in attempt.body
    (welcome,) = _mails(db, "fresh@example.com")
    assert "Welcome" in welcome.subject
    # the new account works at once
    token = client.post("/api/v1/auth/tokens", json={"email": "fresh@example.com", "password": "violet harbour 42"})
    assert token.status_code == 201


def test_register_page_answers_the_same_whether_or_not_the_email_has_an_account(app, auth, db):
    f.create_user(email="taken@example.com")

    def sign_up(email: str):
        client = app.test_client()
        helper = type(auth)(client)
        response = client.post("/auth/register", data={
            "display_name": "Someone", "email": email, "password": "violet harbour 42",
            "confirm": "violet harbour 42", "role": "merchant", "csrf_token": helper.csrf("/auth/register")})
        return client, response

    new_client, new = sign_up("fresh@example.com")
    taken_client, taken = sign_up("taken@example.com")
    assert new.status_code == taken.status_code == 302
    assert new.headers["Location"] == taken.headers["Location"]
    new_page = _html(new_client.get(new.headers["Location"]))
    taken_page = _html(taken_client.get(taken.headers["Location"]))
    # all but the tokens, the CSP nonces and the address
    strip = re.compile(r'name="csrf[-_]token"[^>]*>|nonce="[^"]*"|(fresh|taken)@example.com')
    assert strip.sub("", new_page) == strip.sub("", taken_page)
    assert not _is_logged_in(new_client) and not _is_logged_in(taken_client)
    assert "tried to sign up" in _mails(db, "taken@example.com")[0].body
    login = type(auth)(new_client)
    response = new_client.post("/auth/login", data={"email": "fresh@example.com", "password": "violet harbour 42",
                                                    "next": "/merchant/businesses/new", "csrf_token": login.csrf()})
    assert response.headers["Location"] == "/merchant/businesses/new"


def test_register_page_says_to_check_the_inbox(auth, db):
    response = auth.client.post("/auth/register", data={
        "display_name": "Mei", "email": "mei@example.com", "password": "violet harbour 42",
        "confirm": "violet harbour 42", "role": "resident", "csrf_token": auth.csrf("/auth/register")},
        follow_redirects=True)
    html = _html(response)
    assert "Check your e-mail" in html and "mei@example.com" in html
    assert 'value="mei@example.com"' in html  # the login form is filled in


# == finding 3: the per-account login lock =======================================================

def _api_login(client, email: str, password: str, address: str = "127.0.0.1"):
    return client.post("/api/v1/auth/tokens", json={"email": email, "password": password},
                       environ_base={"REMOTE_ADDR": address})


def test_five_wrong_passwords_lock_the_account_whatever_the_address(client, db, clock):
    user = f.create_user(email="res@example.com")
    for n in range(5):
        assert _api_login(client, "res@example.com", f"wrong-{n}", f"10.0.0.{n + 1}").status_code == 401
    locked = _api_login(client, "res@example.com", f.PASSWORD, "10.0.0.9")
    assert locked.status_code == 401
    assert locked.json["error"]["code"] == "invalid_credentials"
    (notice,) = _notices(db, user, "account_locked")
    assert "5 wrong passwords" in notice.body
    assert [m for m in _mails(db, "res@example.com") if "locked" in m.subject]

    clock.advance(timedelta(seconds=59))
    assert _api_login(client, "res@example.com", f.PASSWORD).status_code == 401
    clock.advance(timedelta(seconds=2))
    assert _api_login(client, "res@example.com", f.PASSWORD).status_code == 201


def test_the_lock_grows_while_the_wrong_passwords_go_on(client, db, clock, app):
    f.create_user(email="res@example.com")
    cap = app.config["LOGIN_LOCK_MAX_SECONDS"]
    lengths = []
    for lock in range(7):
        for n in range(5):  # from ever new addresses: the per-address limit never comes into it
            assert _api_login(client, "res@example.com", f"wrong-{n}", f"10.2.{lock}.{n}").status_code == 401
        user = db.session.scalar(select(User).where(User.email == "res@example.com"))
        db.session.refresh(user)
        lengths.append(round((user.locked_until - clock.now()).total_seconds()))
        clock.travel(user.locked_until, tick=False)
    assert lengths == [min(60 * 2 ** n, cap) for n in range(7)]
    assert lengths[-1] == cap


def test_a_good_login_resets_the_count(client, db):
    f.create_user(email="res@example.com")
    for n in range(4):
        _api_login(client, "res@example.com", f"wrong-{n}")
    assert _api_login(client, "res@example.com", f.PASSWORD).status_code == 201
    for n in range(4):
        _api_login(client, "res@example.com", f"wrong-{n}")
    assert _api_login(client, "res@example.com", f.PASSWORD).status_code == 201


def test_the_html_login_locks_too_and_says_nothing_more(auth, db, clock):
    f.create_user(email="res@example.com")
    answers = []
    for n in range(5):
        response = _login(auth, "res@example.com", f"wrong-{n}", environ_base={"REMOTE_ADDR": f"10.1.0.{n}"})
        answers.append((response.status_code, WRONG in _html(response)))
    locked = _login(auth, "res@example.com")
    unknown = _login(auth, "ghost@example.com")
    assert answers == [(422, True)] * 5
    assert (locked.status_code, WRONG in _html(locked)) == (422, True)
    assert (unknown.status_code, WRONG in _html(unknown)) == (422, True)
    assert not _is_logged_in(auth.client)


def test_locked_unknown_and_wrong_answer_alike_and_all_hash(client, db, monkeypatch):
    from argon2 import PasswordHasher

    f.create_user(email="locked@example.com")
    f.create_user(email="res@example.com")
    for n in range(5):
        _api_login(client, "locked@example.com", f"wrong-{n}")
    verified = []
    original = PasswordHasher.verify
    monkeypatch.setattr(PasswordHasher, "verify", lambda self, *a: verified.append(1) or original(self, *a))
    bodies = []
    for email, password in [("res@example.com", "wrong-password"), ("ghost@example.com", f.PASSWORD),
                            ("locked@example.com", f.PASSWORD)]:
        response = _api_login(client, email, password)
        bodies.append((response.status_code, response.json))
    assert bodies[0] == bodies[1] == bodies[2]
    assert len(verified) == 3  # a password hash is checked in every case: the time does not tell


# == finding 10: CSRF tokens expire; the inbox's GET changes nothing =============================

def test_csrf_tokens_expire(app, auth, db, clock):
    f.create_user(email="res@example.com")
    assert app.config["WTF_CSRF_TIME_LIMIT"] == 8 * 3600
    token = auth.csrf()
    clock.advance(timedelta(hours=8, minutes=1))
    response = auth.client.post("/auth/login", data={"email": "res@example.com", "password": f.PASSWORD,
                                                     "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login"
    page = _html(auth.client.get("/auth/login"))
    assert "This form expired" in page
    assert not _is_logged_in(auth.client)
    assert _login(auth, "res@example.com").status_code == 302  # a fresh form works


def test_a_csrf_token_within_its_lifetime_works(auth, db, clock):
    f.create_user(email="res@example.com")
    token = auth.csrf()
    clock.advance(timedelta(hours=7, minutes=59))
    response = auth.client.post("/auth/login", data={"email": "res@example.com", "password": f.PASSWORD,
                                                     "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"] != "/auth/login"


def test_the_inbox_get_marks_nothing_read_and_a_post_does(auth, db):
    user = f.create_user(email="res@example.com")
    booking_services.notify_account(user, "test", "Hello there", "A message.")
    db.session.flush()

    def unread() -> int:
        return _count(db, Notification, Notification.user_id == user.id, Notification.read_at.is_(None))

    _login(auth, "res@example.com")
    html = _html(auth.client.get("/me/inbox"))
    assert "Hello there" in html and "1 unread" in html
    auth.client.get("/me/inbox")
    assert unread() == 1
    assert auth.client.post("/me/inbox/read").status_code == 302  # no CSRF token: refused
    assert unread() == 1
    response = auth.post("/me/inbox/read")
    assert response.status_code == 302 and response.headers["Location"] == "/me/inbox"
    assert unread() == 0
    assert "1 unread" not in _html(auth.client.get("/me/inbox"))
