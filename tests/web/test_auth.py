"""Accounts through the test client: sign-up, log-in, cookies, CSRF, bearer tokens."""

from __future__ import annotations

import re

import pytest
from flask import url_for
from sqlalchemy import func, select

from app.auth.models import ApiToken, Role, User
from app.merchants.models import Business
from tests import factories as f


@pytest.fixture
def home(app) -> str:
    """Where a resident lands by default (the discovery page)."""
    with app.test_request_context():
        return url_for("discovery.home")


def _users_with(db, email: str) -> int:
    return db.session.scalar(select(func.count()).select_from(User).where(User.email == email.lower()))


def _business_count(db) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Business))


def _cookie_headers(response, name: str) -> list[str]:
    return [h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


def _logged_in_as(client) -> str | None:
    with client.session_transaction() as sess:
        return sess.get("_user_id")


# -- registration: the page ------------------------------------------------------

GOOD_PASSWORD = "violet harbour 42"


def _register_form(auth, **overrides):
    data = {"display_name": "Mei", "email": "mei@example.com", "password": GOOD_PASSWORD,
            "confirm": GOOD_PASSWORD, "role": "resident", **overrides}
    return auth.client.post("/auth/register", data={**data, "csrf_token": auth.csrf("/auth/register")})


def test_register_page_renders_with_role_choice(client):
    response = client.get("/auth/register?role=merchant")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    (merchant,) = re.findall(r'<input[^>]*value="merchant"[^>]*>', html)
    assert "checked" in merchant and 'name="role"' in merchant


@pytest.mark.parametrize("role, landing", [("resident", "/auth/login"),
                                           ("merchant", "/auth/login?next=/merchant/businesses/new")],
                         ids=["resident", "merchant"])
def test_register_page_creates_account_and_sends_to_login(auth, db, role, landing):
    response = _register_form(auth, role=role, email="Mei@Example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == landing  # the same whether or not the address had an account
    user = db.session.scalar(select(User).where(User.email == "mei@example.com"))
    assert user is not None and user.role == role and user.display_name == "Mei"
    assert user.password_hash.startswith("$argon2id$") and GOOD_PASSWORD not in user.password_hash
    assert _logged_in_as(auth.client) is None
    auth.client.post(landing, data={"email": "mei@example.com", "password": GOOD_PASSWORD,
                                               "csrf_token": auth.csrf()})
    assert _logged_in_as(auth.client) == str(user.id)


@pytest.mark.parametrize("overrides, field, message", [
    ({"email": "not-an-email"}, "email", "Invalid email address."),
    ({"password": "short", "confirm": "short"}, "password", "Field must be between 8 and 256 characters long."),
    ({"confirm": "something else"}, "confirm", "Passwords differ."),
    ({"display_name": ""}, "display_name", "This field is required."),
    ({"role": "admin"}, "role", "Not a valid choice."),
], ids=["bad-email", "short-password", "mismatch", "no-name", "admin-role"])
def test_register_page_refuses_bad_input(auth, db, overrides, field, message):
    response = _register_form(auth, **overrides)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'class="invalid-feedback d-block"(?: data-field="{field}")?>{re.escape(message)}<', html)
    assert _users_with(db, overrides.get("email", "mei@example.com")) == 0
    assert _logged_in_as(auth.client) is None


# -- registration: the API -------------------------------------------------------

@pytest.mark.parametrize("role", ["resident", "merchant"])
def test_register_api_creates_account(client, db, role):
    response = client.post("/api/v1/auth/register", json={
        "email": f"{role}@example.com", "password": GOOD_PASSWORD, "display_name": "Lin", "role": role})
    assert response.status_code == 201
    assert response.json["email"] == f"{role}@example.com" and "Check your e-mail" in response.json["message"]
    assert "password" not in response.json and "password_hash" not in response.json
    assert db.session.scalar(select(User.role).where(User.email == f"{role}@example.com")) == role


def test_register_api_defaults_to_resident(client, db):
    response = client.post("/api/v1/auth/register", json={
        "email": "plain@example.com", "password": GOOD_PASSWORD, "display_name": "Plain"})
    assert response.status_code == 201
    assert db.session.scalar(select(User.role).where(User.email == "plain@example.com")) == "resident"


@pytest.mark.parametrize("body, field", [
    ({"email": "nope", "password": GOOD_PASSWORD, "display_name": "A"}, "email"),
    ({"email": "a@example.com", "password": "short", "display_name": "A"}, "password"),
    ({"email": "a@example.com", "password": GOOD_PASSWORD, "display_name": ""}, "display_name"),
    ({"email": "a@example.com", "password": GOOD_PASSWORD, "display_name": "A", "role": "admin"}, "role"),
    ({"email": "a@example.com", "password": GOOD_PASSWORD, "display_name": "A", "role": "staff"}, "role"),
    ({"password": GOOD_PASSWORD, "display_name": "A"}, "email"),
], ids=["bad-email", "short-password", "empty-name", "admin-role", "staff-role", "missing-email"])
def test_register_api_refuses_bad_input(client, db, body, field):
    response = client.post("/api/v1/auth/register", json=body)
    assert response.status_code == 422
    assert response.json["error"]["code"] == "validation_failed"
    assert field in response.json["error"]["details"]
    assert _users_with(db, body.get("email", "a@example.com")) == 0


# -- log in, log out -------------------------------------------------------------

def test_login_page_renders(client):
    response = client.get("/auth/login")
    assert response.status_code == 200
    assert 'name="remember"' in response.get_data(as_text=True)


def test_login_and_logout(auth, db):
    user = f.create_merchant(email="owner@example.com")
    response = auth.login("owner@example.com")
    assert response.status_code == 302
    assert response.headers["Location"] == "/merchant/"
    assert _logged_in_as(auth.client) == str(user.id)
    page = auth.client.get("/merchant/")
    assert page.status_code == 200 and user.display_name in page.get_data(as_text=True)

    response = auth.logout()
    assert response.status_code == 302
    assert _logged_in_as(auth.client) is None
    again = auth.client.get("/merchant/")
    assert again.status_code == 302 and again.headers["Location"].startswith("/auth/login")


def test_login_with_wrong_password_is_refused(auth, db):
    f.create_user(email="res@example.com")
    response = auth.login("res@example.com", "wrong-password")
    assert response.status_code == 422
    assert "E-mail or password is wrong." in response.get_data(as_text=True)
    assert _logged_in_as(auth.client) is None


def test_login_with_unknown_email_is_refused_the_same_way(auth, db):
    response = auth.login("ghost@example.com")
    assert response.status_code == 422
    assert "E-mail or password is wrong." in response.get_data(as_text=True)


def test_logout_needs_post(auth, db):
    f.create_user(email="res@example.com")
    auth.login("res@example.com")
    assert auth.client.get("/auth/logout").status_code == 405
    assert _logged_in_as(auth.client) is not None


def test_login_clears_the_session(auth, db):
    user = f.create_user(email="res@example.com")
    auth.client.get("/auth/login")
    with auth.client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        sess["_user_id"] = "999999"
    response = auth.login("res@example.com")
    assert response.status_code == 302
    with auth.client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["_user_id"] == str(user.id)


@pytest.mark.parametrize("target, expected", [
    ("/merchant/", "/merchant/"),
    ("/stores/1?tab=hours", "/stores/1?tab=hours"),
    ("//evil.example", "HOME"),
    ("https://evil.example", "HOME"),
    ("http://evil.example/merchant/", "HOME"),
    ("/\\evil.example", "HOME"),
    ("\\\\evil.example", "HOME"),
    ("/\t/evil.example", "HOME"),
    ("javascript:alert(1)", "HOME"),
    ("evil.example", "HOME"),
], ids=["inside", "inside-query", "scheme-relative", "https", "http", "backslash", "double-backslash",
        "tab-slash", "javascript", "relative"])
def test_login_next_only_redirects_inside_the_site(auth, db, home, target, expected):
    f.create_user(email="res@example.com")
    form = auth.client.get("/auth/login", query_string={"next": target}).get_data(as_text=True)
    assert 'name="next"' in form
    response = auth.client.post("/auth/login", data={
        "email": "res@example.com", "password": f.PASSWORD, "next": target, "csrf_token": auth.csrf()})
    assert response.status_code == 302
    assert response.headers["Location"] == (home if expected == "HOME" else expected)


@pytest.mark.parametrize("target, expected", [
    ("/merchant/", "/merchant/"), ("//evil.example", "HOME"), ("https://evil.example", "HOME"), ("/\\evil", "HOME"),
], ids=["inside", "scheme-relative", "https", "backslash"])
def test_register_next_only_redirects_inside_the_site(auth, db, target, expected):
    response = _register_form(auth, next=target)
    assert response.status_code == 302
    assert response.headers["Location"] == ("/auth/login" if expected == "HOME" else f"/auth/login?next={expected}")


def test_login_required_page_sends_back_after_login(auth, db):
    f.create_merchant(email="owner@example.com")
    response = auth.client.get("/merchant/businesses/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    response = auth.client.post("/auth/login", data={
        "email": "owner@example.com", "password": f.PASSWORD, "next": "/merchant/businesses/new",
        "csrf_token": auth.csrf()})
    assert response.headers["Location"] == "/merchant/businesses/new"


# -- cookies ---------------------------------------------------------------------

def test_session_cookie_is_httponly_and_lax(auth, db):
    f.create_user(email="res@example.com")
    response = auth.login("res@example.com")
    cookies = _cookie_headers(response, "session")
    assert cookies, response.headers.getlist("Set-Cookie")
    for header in cookies:
        assert "HttpOnly" in header
        assert "SameSite=Lax" in header
        assert "Secure" not in header  # not in tests; production sets SESSION_COOKIE_SECURE
    assert not _cookie_headers(response, "onsite_remember")


def test_remember_me_sets_a_httponly_lax_cookie(auth, db):
    f.create_user(email="res@example.com")
    response = auth.client.post("/auth/login", data={
        "email": "res@example.com", "password": f.PASSWORD, "remember": "y", "csrf_token": auth.csrf()})
    assert response.status_code == 302
    (remember,) = _cookie_headers(response, "onsite_remember")
    assert "HttpOnly" in remember
    assert "SameSite=Lax" in remember
    assert "Expires=" in remember


def test_secure_cookie_settings_follow_production(app):
    from app.config import Config

    assert Config.SESSION_COOKIE_SECURE is Config.IS_PRODUCTION
    assert Config.REMEMBER_COOKIE_SECURE is Config.IS_PRODUCTION
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["REMEMBER_COOKIE_HTTPONLY"] is True


# -- CSRF ------------------------------------------------------------------------

def test_form_post_without_csrf_token_is_refused(auth, db):
    f.create_merchant(email="owner@example.com")
    auth.login("owner@example.com")
    before = _business_count(db)
    response = auth.client.post("/merchant/businesses/new", data={"name": "Sneaky", "category": "food"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/merchant/businesses/new"
    assert _business_count(db) == before
    page = auth.client.get("/merchant/businesses/new").get_data(as_text=True)
    assert "Your session expired or the form was stale" in page


def test_form_post_with_wrong_csrf_token_is_refused(auth, db):
    f.create_merchant(email="owner@example.com")
    auth.login("owner@example.com")
    before = _business_count(db)
    response = auth.client.post("/merchant/businesses/new", data={
        "name": "Sneaky", "category": "food", "csrf_token": "forged"})
    assert response.status_code == 302
    assert _business_count(db) == before


def test_login_without_csrf_token_is_refused(auth, db):
    f.create_user(email="res@example.com")
    response = auth.client.post("/auth/login", data={"email": "res@example.com", "password": f.PASSWORD})
    assert response.status_code == 302
    assert _logged_in_as(auth.client) is None


def test_logout_without_csrf_token_is_refused(auth, db):
    user = f.create_user(email="res@example.com")
    auth.login("res@example.com")
    auth.client.post("/auth/logout")
    assert _logged_in_as(auth.client) == str(user.id)


def test_cookie_session_api_write_needs_csrf_header(auth, db):
    f.create_merchant(email="owner@example.com")
    auth.login("owner@example.com")
    before = _business_count(db)
    response = auth.client.post("/api/v1/businesses", json={"name": "Cookie shop"})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf_failed"
    assert _business_count(db) == before

    response = auth.client.post("/api/v1/businesses", json={"name": "Cookie shop"},
                                headers={"X-CSRFToken": "forged"})
    assert response.json["error"]["code"] == "csrf_failed"
    assert _business_count(db) == before

    response = auth.client.post("/api/v1/businesses", json={"name": "Cookie shop"},
                                headers={"X-CSRFToken": auth.csrf("/")})
    assert response.status_code == 201, response.json
    assert response.json["name"] == "Cookie shop"
    assert _business_count(db) == before + 1


def test_cookie_session_api_read_needs_no_csrf(auth, db):
    business = f.create_business(f.create_merchant(email="owner@example.com"))
    auth.login("owner@example.com")
    response = auth.client.get("/api/v1/businesses")
    assert response.status_code == 200
    assert [b["id"] for b in response.json] == [business.id]


def test_bearer_write_needs_no_csrf(client, db):
    owner = f.create_merchant()
    response = client.post("/api/v1/businesses", json={"name": "Token shop"}, headers=f.token_for(owner))
    assert response.status_code == 201
    assert db.session.get(Business, response.json["id"]).owner_id == owner.id


def test_bearer_write_needs_no_csrf_even_with_a_session_cookie(auth, db):
    owner = f.create_merchant(email="owner@example.com")
    auth.login("owner@example.com")
    response = auth.client.post("/api/v1/businesses", json={"name": "Both"}, headers=f.token_for(owner))
    assert response.status_code == 201


# -- tokens ----------------------------------------------------------------------

def test_token_for_good_credentials_works_on_writes(client, db):
    user = f.create_merchant(email="owner@example.com")
    response = client.post("/api/v1/auth/tokens", json={"email": "OWNER@example.com", "password": f.PASSWORD})
    assert response.status_code == 201
    token = response.json["token"]
    assert response.json["token_type"] == "Bearer" and response.json["user"]["id"] == user.id
    stored = db.session.scalars(select(ApiToken.token_hash).where(ApiToken.user_id == user.id)).all()
    assert stored and token not in stored  # only the digest is kept
    write = client.post("/api/v1/businesses", json={"name": "Via token"},
                        headers={"Authorization": f"Bearer {token}"})
    assert write.status_code == 201


@pytest.mark.parametrize("body", [
    {"email": "owner@example.com", "password": "wrong-password"},
    {"email": "nobody@example.com", "password": f.PASSWORD},
    {"email": "", "password": ""},
], ids=["wrong-password", "unknown-email", "empty"])
def test_token_for_bad_credentials_is_401(client, db, body):
    f.create_merchant(email="owner@example.com")
    response = client.post("/api/v1/auth/tokens", json=body)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"
    assert "token" not in response.json


def test_token_request_missing_fields_is_422(client, db):
    response = client.post("/api/v1/auth/tokens", json={"email": "owner@example.com"})
    assert response.status_code == 422
    assert "password" in response.json["error"]["details"]


@pytest.mark.parametrize("header", [
    "Bearer garbage", "Bearer ons_" + "x" * 43, "Bearer " + "y" * 500, "Basic dXNlcjpwYXNz", "Bearer",
], ids=["garbage", "token-shaped", "long", "basic", "empty-bearer"])
def test_garbage_bearer_token_is_401_on_write(client, db, header):
    response = client.post("/api/v1/businesses", json={"name": "Nope"}, headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"
    assert _business_count(db) == 0 or "Nope" not in db.session.scalars(select(Business.name)).all()


def test_anonymous_api_write_is_401(client, db):
    response = client.post("/api/v1/businesses", json={"name": "Nope"})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# -- disabled accounts -------------------------------------------------------------

def test_disabled_account_cannot_log_in(auth, db):
    f.create_user(email="off@example.com", is_active_account=False)
    response = auth.login("off@example.com")
    assert response.status_code == 422
    assert "E-mail or password is wrong." in response.get_data(as_text=True)
    assert _logged_in_as(auth.client) is None


def test_disabled_account_cannot_get_a_token(client, db):
    f.create_user(email="off@example.com", is_active_account=False)
    response = client.post("/api/v1/auth/tokens", json={"email": "off@example.com", "password": f.PASSWORD})
    assert response.status_code == 401
    assert response.json["error"]["code"] == "invalid_credentials"


def test_disabled_account_cannot_use_its_token(client, db):
    user = f.create_merchant()
    headers = f.token_for(user)
    assert client.post("/api/v1/businesses", json={"name": "Before"}, headers=headers).status_code == 201
    user.is_active_account = False
    db.session.flush()
    response = client.post("/api/v1/businesses", json={"name": "After"}, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"
    assert "After" not in db.session.scalars(select(Business.name)).all()


def test_disabled_account_loses_its_open_session(auth, db):
    user = f.create_merchant(email="owner@example.com")
    auth.login("owner@example.com")
    assert auth.client.get("/merchant/").status_code == 200
    user.is_active_account = False
    db.session.flush()
    response = auth.client.get("/merchant/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    api = auth.client.post("/api/v1/businesses", json={"name": "After"}, headers={"X-CSRFToken": auth.csrf("/")})
    assert api.status_code == 401


def test_role_is_not_self_service_admin(client, db):
    response = client.post("/api/v1/auth/register", json={
        "email": "boss@example.com", "password": GOOD_PASSWORD, "display_name": "Boss", "role": "admin"})
    assert response.status_code == 422
    assert db.session.scalar(select(User).where(User.role == Role.ADMIN, User.email == "boss@example.com")) is None
