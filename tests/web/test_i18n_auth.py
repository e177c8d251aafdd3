"""Accounts and errors speak the visitor's language: the pages, form errors, flashes, API errors and notices.

Every test runs in English (no Accept-Language) and in Chinese (a Chinese browser or API client), asserting
on the words each language shows.
"""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from app.auth.models import User
from bookings.models import Notification
from tests import factories as f

EN: dict[str, str] = {}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}
LANGUAGES = [pytest.param(EN, id="en"), pytest.param(ZH, id="zh_CN")]


def say(headers: dict, english: str, chinese: str) -> str:
    """What the page says in the language these headers ask for."""
    return chinese if headers else english


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def csrf(client, path: str, headers: dict) -> str:
    page = client.get(path, headers=headers).get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def sign_up(client, headers: dict, follow_redirects: bool = False, **fields):
    data = {"display_name": "Lin Wei", "email": "lin.wei@example.com", "password": "violet harbour 42",
            "confirm": "violet harbour 42", "role": "resident", **fields}
    return client.post("/auth/register", headers=headers, follow_redirects=follow_redirects,
                       data={**data, "csrf_token": csrf(client, "/auth/register", headers)})


@pytest.mark.parametrize("headers", LANGUAGES)
def test_login_page(client, headers):
    response = client.get("/auth/login", headers=headers)
    page = text(response)
    assert response.status_code == 200
    assert f'<html lang="{say(headers, "en", "zh-CN")}">' in page
    assert f"<h1 class=\"h3 mb-3\">{say(headers, 'Log in', '登录')}</h1>" in page
    for english, chinese in [("Keep me logged in", "保持登录"), ("New here?", "第一次来？"),
                             ("Create an account", "注册账号"), ("Password", "密码")]:
        assert say(headers, english, chinese) in page


@pytest.mark.parametrize("headers", LANGUAGES)
def test_register_page(client, headers):
    page = text(client.get("/auth/register", headers=headers))
    for english, chinese in [("Create your Onsite account", "注册 Onsite 账号"), ("Repeat password", "确认密码"),
                             ("looking for experiences", "来找体验的用户"),
                             ("a merchant listing my store", "要上架门店的商家"),
                             ("At least 8 characters", "至少 8 个字符"), ("Already have an account?", "已有账号？")]:
        assert say(headers, english, chinese) in page


@pytest.mark.parametrize("headers", LANGUAGES)
def test_wrong_password_is_said_in_the_visitors_language(client, db, headers):
    user = f.create_user()
    response = client.post("/auth/login", headers=headers, data={
        "email": user.email, "password": "not the password", "csrf_token": csrf(client, "/auth/login", headers)})
    assert response.status_code == 422
    assert say(headers, "E-mail or password is wrong.", "邮箱或密码错误。") in text(response)


@pytest.mark.parametrize("headers", LANGUAGES)
def test_welcome_flash_after_login(client, db, headers):
    user = f.create_user(display_name="Zhou Min")
    response = client.post("/auth/login", headers=headers, follow_redirects=True, data={
        "email": user.email, "password": f.PASSWORD, "csrf_token": csrf(client, "/auth/login", headers)})
    assert say(headers, "Welcome back, Zhou Min.", "欢迎回来，Zhou Min。") in text(response)


@pytest.mark.parametrize("headers", LANGUAGES)
def test_sign_up_field_errors(client, db, headers):
    differ = sign_up(client, headers, confirm="violet harbour 43")
    assert differ.status_code == 422
    assert say(headers, "Passwords differ.", "两次输入的密码不一致。") in text(differ)
    weak = sign_up(client, headers, password="aaaaaaaaaa", confirm="aaaaaaaaaa")
    assert weak.status_code == 422
    assert say(headers, "A password cannot be one character repeated.", "密码不能是同一个字符的重复。") in text(weak)


@pytest.mark.parametrize("headers", LANGUAGES)
def test_a_new_account_keeps_its_language_and_is_welcomed_in_it(client, db, headers):
    response = sign_up(client, headers, follow_redirects=True)
    assert say(headers, "Check your e-mail: we sent a message to lin.wei@example.com.",
               "请查收邮件：我们已向 lin.wei@example.com 发送了一封邮件。") in text(response)
    user = db.session.scalar(select(User).where(User.email == "lin.wei@example.com"))
    assert user.locale == say(headers, "en", "zh_CN")
    welcome = db.session.scalar(select(Notification).where(Notification.user_id == user.id))
    assert welcome.title == say(headers, "Welcome to Onsite", "欢迎来到 Onsite")


@pytest.mark.parametrize("headers", LANGUAGES)
def test_api_unauthenticated(client, headers):
    response = client.post("/api/v1/auth/logout-everywhere", headers=headers)
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "unauthenticated"  # codes stay English identifiers
    assert error["message"] == say(headers, "Log in or send a bearer token.", "请先登录，或携带 Bearer 令牌。")


@pytest.mark.parametrize("headers", LANGUAGES)
def test_api_wrong_password(client, db, headers):
    user = f.create_user()
    response = client.post("/api/v1/auth/tokens", headers=headers,
                           json={"email": user.email, "password": "not the password"})
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert (error["code"], error["message"]) == ("invalid_credentials",
                                                 say(headers, "E-mail or password is wrong.", "邮箱或密码错误。"))


@pytest.mark.parametrize("headers", LANGUAGES)
def test_api_sign_up_field_error(client, db, headers):
    response = client.post("/api/v1/auth/register", headers=headers, json={
        "email": "ma.li@example.com", "password": "aaaaaaaaaa", "display_name": "Ma Li"})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["message"] == say(headers, "Some fields are not valid.", "部分内容填写有误。")
    assert error["details"] == {"password": say(headers, "A password cannot be one character repeated.",
                                                "密码不能是同一个字符的重复。")}


@pytest.mark.parametrize("headers", LANGUAGES)
def test_not_found_page(client, headers):
    response = client.get("/no/such/page", headers=headers)
    assert response.status_code == 404
    page = text(response)
    assert say(headers, "There is nothing at this address.", "这个地址下没有内容。") in page
    assert say(headers, "Back to experiences", "返回体验列表") in page


@pytest.mark.parametrize("headers", LANGUAGES)
def test_wtforms_own_messages_follow_the_language(client, db, headers):
    """WTForms' built-in messages come from its own catalogue, in the request's language."""
    response = sign_up(client, headers, display_name="", email="not an address")
    assert response.status_code == 422
    page = text(response)
    assert say(headers, "This field is required.", "该字段是必填字段。") in page
    assert say(headers, "Invalid email address.", "无效的 Email 地址。") in page
