"""Operations tests: scratch databases of their own, apps on them, the backup script."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from psycopg import sql

from app import create_app
from app.config import TestConfig
from app.extensions import db

ROOT = Path(__file__).resolve().parents[2]
SHARED = {"onsite", "onsite_test", "onsite_e2e", "onsite_migration_test", "postgres"}


def libpq(url: str) -> str:
    """The URL psycopg and the PostgreSQL tools take (no +psycopg driver suffix)."""
    return re.sub(r"^postgresql\+psycopg://", "postgresql://", url)


def free_port() -> int:
    """A loopback TCP port nothing listens on (until someone binds it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def scratch_database() -> Iterator[Callable[[str], tuple[str, str]]]:
    """Name scratch databases on the test database's server: ``make(label)`` gives (name, URL).

    Created by whoever uses them first (the backup script creates a missing one), every one is dropped
    afterwards; never one of the shared databases.
    """
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        pytest.exit("TEST_DATABASE_URL is not set: run the tests with `make test`", returncode=2)
    made: list[str] = []

    def make(label: str) -> tuple[str, str]:
        name = f"onsite_ops_{uuid.uuid4().hex[:8]}_{label}"
        assert name not in SHARED
        made.append(name)
        return name, with_database(base.replace("postgresql://", "postgresql+psycopg://"), name)

    yield make
    with psycopg.connect(libpq(with_database(base, "postgres")), autocommit=True) as admin:
        for name in made:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def create_database(url: str) -> None:
    """Create the database of ``url`` with the extensions the app needs, as scripts/devdb.sh would."""
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(libpq(with_database(url, "postgres")), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")


@contextmanager
def app_on(url: str, **settings) -> Iterator[Flask]:
    """An application (test settings) on the database at ``url``; its engine is disposed afterwards."""

    class OnDatabase(TestConfig):
        SQLALCHEMY_DATABASE_URI = url

    application = create_app(OnDatabase())
    application.config.update(settings)
    try:
        yield application
    finally:
        with application.app_context():
            db.engine.dispose()


def backup_script(command: str, database: str, server_url: str, file: Path,
                  timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``scripts/backup.sh COMMAND FILE`` on database ``database`` of ``server_url``'s server."""
    env = {**os.environ, "DATABASE_URL": server_url, "DB_NAME": database}
    return subprocess.run([str(ROOT / "scripts" / "backup.sh"), command, str(file)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout, check=False)
