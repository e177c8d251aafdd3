"""The auditor role: ``flask users create-auditor`` and the role's check constraint."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.models import Role, User


def test_cli_create_auditor(app, db):
    result = app.test_cli_runner().invoke(args=["users", "create-auditor", "--email", "Shopper@Example.com",
                                                "--password", "a-long-password"])

    assert result.exit_code == 0, result.output
    assert "Auditor shopper@example.com is ready" in result.output
    assert db.session.scalar(select(User.role).where(User.email == "shopper@example.com")) == Role.AUDITOR


def test_cli_create_auditor_reports_invalid_fields(app, db):
    result = app.test_cli_runner().invoke(args=["users", "create-auditor", "--email", "nope",
                                                "--password", "short"])

    assert result.exit_code == 1
    assert "email:" in result.output
