"""The per-request shortcuts (issue 17) answer exactly as the work they skip: Flask's sync check, the session
cookie's serializer, and a session nobody has used."""

from __future__ import annotations

import functools

from flask import session
from flask.sessions import SecureCookieSessionInterface

from app import statements
from tests import factories as f


def test_plain_functions_and_methods_are_run_as_they_are_and_coroutines_still_go_to_flask(app, monkeypatch):
    def view():
        return "ok"

    async def coroutine_view():
        return "ok"

    class Hooks:
        def hook(self):
            return "ok"

    hooks = Hooks()
    assert app.ensure_sync(view) is view
    assert app.ensure_sync(hooks.hook) == hooks.hook
    partial = functools.partial(view)
    assert app.ensure_sync(partial) is partial  # no code of its own: Flask's own check, which unwraps it
    converted = []
    monkeypatch.setattr(app, "async_to_sync", lambda func: converted.append(func) or "wrapped")
    assert app.ensure_sync(coroutine_view) == "wrapped"  # Flask's own conversion, not run as a plain function
    coroutine_partial = functools.partial(coroutine_view)
    assert app.ensure_sync(coroutine_partial) == "wrapped"
    assert converted == [coroutine_view, coroutine_partial]


def test_the_session_cookie_reads_as_flasks_own_interface_reads_it(app):
    interface = app.session_interface
    assert interface.get_signing_serializer(app) is interface.get_signing_serializer(app)  # built once per key
    cookie = SecureCookieSessionInterface().get_signing_serializer(app).dumps({"_user_id": "7", "note": "kept"})
    name = app.config["SESSION_COOKIE_NAME"]
    for sent, expected in ((cookie, {"_user_id": "7", "note": "kept"}), ("forged", {}), (None, {})):
        headers = {"Cookie": f"{name}={sent}"} if sent else {}
        with app.test_request_context("/", headers=headers) as ctx:
            opened = interface.open_session(app, ctx.request)
            assert dict(opened) == expected and not opened.modified
    with app.test_request_context("/", headers={"Cookie": f"{name}={cookie}"}):  # and the app reads it so
        assert session["note"] == "kept"


def test_a_statement_alone_runs_in_the_tests_transaction_even_before_the_session_is_made(app, db):
    """The tests bind the session to their connection: a statement alone must see its uncommitted rows whether or
    not the request has made its session yet."""
    user = f.create_user()
    db.session.commit()  # a savepoint of the test's transaction, released: the connection still holds the row
    user_id, email = user.id, user.email
    db.session.remove()  # no session in the registry now; the factory still binds to the test's connection
    assert not db.session.registry.has()
    assert statements.alone("SELECT email FROM users WHERE id = $1", [user_id]) == [(email,)]
