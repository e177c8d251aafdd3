"""`make backup` / `make restore`: a backup of a small world restores into an empty database whole,
and a restore never goes into a database that already holds tables."""

from __future__ import annotations

import os
from datetime import timedelta

import psycopg
from flask_migrate import upgrade

from app import clock
from app.extensions import db
from bookings import checkin
from tests import factories as f
from tests.ops.conftest import app_on, backup_script, create_database, libpq

KEY = b"k" * 32


def build_world() -> dict[str, set]:
    """Two merchants, a store, an experience with slots, three bookings, one checked in; committed."""
    owner, other_owner = f.create_merchant(display_name="Backup Owner"), f.create_merchant()
    store = f.create_store(f.create_business(owner), timezone="Asia/Shanghai")
    f.create_store(f.create_business(other_owner))
    offering = f.create_offering(store, capacity=10, duration_min=60)
    arriving = f.create_booking_starting_in(10, offering=offering)
    tomorrow = arriving.slot.starts_at + timedelta(days=1)
    later = f.create_booking(f.create_slot(offering, tomorrow))
    cancelled = f.create_booking(f.create_slot(offering, tomorrow + timedelta(hours=2)), status="cancelled_by_resident")
    visit = checkin.staff_check_in(owner, store.id, arriving.code, KEY, clock.now())
    db.session.commit()
    return {
        "merchants": {owner.id, other_owner.id},
        "bookings": {(b.id, b.code, str(b.status)) for b in (arriving, later, cancelled)},
        "check_ins": {(visit.check_in.id, arriving.id)},
    }


def read_world(url: str) -> dict[str, set]:
    with psycopg.connect(libpq(url)) as conn:
        return {
            "merchants": {row[0] for row in conn.execute("SELECT id FROM users WHERE role = 'merchant'")},
            "bookings": set(conn.execute("SELECT id, code, status::text FROM bookings").fetchall()),
            "check_ins": set(conn.execute("SELECT id, booking_id FROM check_ins").fetchall()),
        }


def alembic_revisions(url: str) -> set[str]:
    with psycopg.connect(libpq(url)) as conn:
        return {row[0] for row in conn.execute("SELECT version_num FROM alembic_version")}


def test_a_backup_restores_every_merchant_booking_and_check_in_into_an_empty_database(scratch_database, tmp_path):
    server = os.environ["TEST_DATABASE_URL"]
    source_name, source = scratch_database("source")
    create_database(source)
    with app_on(source) as application, application.app_context():
        upgrade()
        world = build_world()
    assert world["bookings"] and {status for _, _, status in world["bookings"]} == {
        "checked_in", "confirmed", "cancelled_by_resident"}

    dump = tmp_path / "onsite.dump"
    made = backup_script("backup", source_name, server, dump)
    assert made.returncode == 0, made.stderr
    assert made.stdout.strip() == str(dump) and dump.stat().st_size > 0

    target_name, target = scratch_database("restored")  # does not exist yet: the restore creates it empty
    restored = backup_script("restore", target_name, server, dump)
    assert restored.returncode == 0, restored.stderr
    assert read_world(target) == read_world(source) == world
    assert alembic_revisions(target) == alembic_revisions(source)

    # Booked again after the restore: sequences were restored too, so new rows get new ids.
    with app_on(target) as application, application.app_context():
        booking = f.create_booking()
        assert booking.id > max(booking_id for booking_id, _, _ in world["bookings"])
        db.session.rollback()


def test_a_restore_refuses_a_database_that_has_tables_and_changes_nothing(scratch_database, tmp_path):
    server = os.environ["TEST_DATABASE_URL"]
    name, url = scratch_database("busy")
    create_database(url)
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me (id int)")
        conn.execute("INSERT INTO keep_me VALUES (1)")
    empty_name, _ = scratch_database("empty")
    dump = tmp_path / "empty.dump"
    assert backup_script("backup", empty_name, server, dump).returncode == 0

    refused = backup_script("restore", name, server, dump)

    assert refused.returncode == 1
    assert f"database {name} is not empty (1 tables, e.g. public.keep_me)" in refused.stderr
    assert "nothing was changed" in refused.stderr
    with psycopg.connect(libpq(url)) as conn:
        assert conn.execute("SELECT id FROM keep_me").fetchall() == [(1,)]


def test_backup_and_restore_say_what_is_wrong_with_their_file(scratch_database, tmp_path):
    server = os.environ["TEST_DATABASE_URL"]
    name, _ = scratch_database("files")
    not_a_dump = tmp_path / "notes.txt"
    not_a_dump.write_text("hello")

    assert "no readable file" in backup_script("restore", name, server, tmp_path / "missing.dump").stderr
    assert "is not a backup pg_restore can read" in backup_script("restore", name, server, not_a_dump).stderr
    assert "already exists" in backup_script("backup", name, server, not_a_dump).stderr
    assert not_a_dump.read_text() == "hello"
