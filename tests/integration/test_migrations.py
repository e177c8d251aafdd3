"""Migrations: an empty PostGIS database goes up to head, matches the models, and back down.

Runs on its own database (MIGRATION_DATABASE_URL), never the test database the other
tests share: it drops every table there except PostGIS's spatial_ref_sys.
"""

from __future__ import annotations

import os

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from geoalchemy2 import alembic_helpers
from sqlalchemy import CheckConstraint, inspect, make_url, text

from app import config as app_config
from app import create_app
from app.config import _database_url
from app.extensions import db
from app.extensions import migrate as migrate_ext

POSTGIS_TABLES = {"spatial_ref_sys"}
SETUP_HINT = (
    "MIGRATION_DATABASE_URL is not set: run the tests with `make test`, or export "
    "MIGRATION_DATABASE_URL=$(scripts/devdb.sh url onsite_migration_test)"
)


def include_object(obj, name, type_, reflected, compare_to):
    """The filter migrations/env.py gives autogenerate (env.py cannot be imported outside alembic)."""
    if type_ == "table" and name in {"spatial_ref_sys", "topology", "layer"}:
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def _migration_url() -> str:
    url = _database_url(os.environ.get("MIGRATION_DATABASE_URL"))
    if not url:
        pytest.fail(SETUP_HINT, pytrace=False)
    target = make_url(url)
    for other in ("TEST_DATABASE_URL", "DATABASE_URL", "E2E_DATABASE_URL"):
        value = _database_url(os.environ.get(other))
        if value and make_url(value).set(password=None) == target.set(password=None):
            pytest.fail(f"MIGRATION_DATABASE_URL is the same database as {other}; this test drops "
                        "every table in it, so give it a database of its own", pytrace=False)
    return url


@pytest.fixture
def migration_app():
    """An app on the migration database, its engine disposed afterwards."""
    url = _migration_url()

    class MigrationConfig(app_config.TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    application = create_app(MigrationConfig())
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()


def _tables(engine) -> set[str]:
    return set(inspect(engine).get_table_names(schema="public"))


def _drop_everything_of_ours(engine) -> None:
    """Leave the database as a fresh one with PostGIS: only spatial_ref_sys stays."""
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
        names = conn.scalars(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'spatial_ref_sys'"
        )).all()
        for name in names:
            conn.execute(text(f'DROP TABLE IF EXISTS public."{name}" CASCADE'))


def _schema_diff(engine) -> list:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "include_object": include_object,
            "compare_type": True,
            "render_item": alembic_helpers.render_item,
        })
        return compare_metadata(context, db.metadata)


def _current_and_head(engine, config) -> tuple[set[str], set[str]]:
    with engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    return current, set(ScriptDirectory.from_config(config).get_heads())


def _check_constraint_names(engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(text(
            "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
            "WHERE n.nspname = 'public' AND c.contype = 'c'")).all())


def test_upgrade_from_empty_to_head_matches_models_and_downgrades_to_nothing(migration_app):
    with migration_app.app_context():
        engine = db.engine
        assert engine.url.database == make_url(_migration_url()).database
        ours = set(db.metadata.tables)
        assert {"users", "businesses", "stores", "offerings", "opening_hours"} <= ours
        config = migrate_ext.get_config()

        _drop_everything_of_ours(engine)
        assert _tables(engine) == POSTGIS_TABLES

        # Up to head from nothing.
        upgrade()
        assert _tables(engine) == ours | POSTGIS_TABLES | {"alembic_version"}
        current, heads = _current_and_head(engine, config)
        assert len(heads) == 1, f"migrations have several heads: {heads}"
        assert current == heads

        # The migrated schema is exactly the models: autogenerate finds nothing to do.
        diff = _schema_diff(engine)
        assert diff == [], f"models and migrations differ; write a migration for: {diff}"
        command.check(config)  # the same question asked through migrations/env.py itself

        # What autogenerate does not compare: CHECK constraints and the GiST indexes.
        expected_checks = {
            str(constraint.name)
            for table in db.metadata.tables.values()
            for constraint in table.constraints
            if isinstance(constraint, CheckConstraint)
        }
        assert expected_checks, "the models declare CHECK constraints"
        assert expected_checks <= _check_constraint_names(engine)
        with engine.connect() as conn:
            gist = set(conn.scalars(text(
                "SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexdef LIKE '%USING gist%'"
            )).all())
        assert {"idx_stores_location", "idx_offerings_location", "ix_offerings_category_location"} <= gist

        # Down to base: every table of ours is gone, PostGIS's stays.
        downgrade(revision="base")
        assert _tables(engine) - {"alembic_version"} == POSTGIS_TABLES
        current, _ = _current_and_head(engine, config)
        assert current == set()
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT count(*) FROM spatial_ref_sys")) > 0
            assert conn.scalar(text("SELECT extname FROM pg_extension WHERE extname = 'postgis'")) == "postgis"

        # And up again: downgrade left nothing behind that blocks a second upgrade.
        upgrade()
        assert _tables(engine) == ours | POSTGIS_TABLES | {"alembic_version"}
        assert _current_and_head(engine, config)[0] == heads
        assert _schema_diff(engine) == []


def test_missing_migration_database_url_fails_with_a_hint(monkeypatch):
    monkeypatch.delenv("MIGRATION_DATABASE_URL", raising=False)
    with pytest.raises(pytest.fail.Exception, match="MIGRATION_DATABASE_URL is not set"):
        _migration_url()


def test_refuses_to_run_on_the_shared_test_database(monkeypatch):
    shared = "postgresql+psycopg://postgres@127.0.0.1:5999/onsite_test"
    monkeypatch.setenv("TEST_DATABASE_URL", shared)
    monkeypatch.setenv("MIGRATION_DATABASE_URL", shared)
    with pytest.raises(pytest.fail.Exception, match="same database as TEST_DATABASE_URL"):
        _migration_url()
