"""Hot statements compiled once and run straight on the driver (floor 1, beside ``extensions``).

Building, cache-keying and compiling a SQLAlchemy statement, then turning ORM rows into objects, costs far
more Python than PostgreSQL spends answering the commonest requests (a nearby search, a booking). For those,
the very statement the ORM code builds is compiled once per process to SQL text with PostgreSQL's own ``$n``
placeholders (psycopg would otherwise parse a long statement's ``%(name)s`` on every execution: it caches
only short ones) and run on a ``RawCursor``, prepared on the connection.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any

import psycopg
from psycopg import RawCursor
from psycopg.pq import ExecStatus
from sqlalchemy import Engine, bindparam, cast, inspect
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.sql import ClauseElement

from app.extensions import db

_NAMED = re.compile(r"%\((\w+)\)s")
TUPLES_OK = ExecStatus.TUPLES_OK


@dataclass(frozen=True)
class Numbered:
    """A statement as SQL text with ``$n`` placeholders: ``names[n - 1]`` names the value of ``$n``;
    ``fixed`` holds the values the statement itself carries (constants the ORM code bound)."""

    sql: str
    names: tuple[str, ...]
    fixed: Mapping[str, Any]

    def values(self, params: Mapping[str, Any]) -> list[Any]:
        """The positional values for ``params`` (the variable ones), the fixed ones filled in."""
        return [params[name] if name in params else self.fixed[name] for name in self.names]


def numbered(statement: ClauseElement, variable: Iterable[str] = ()) -> Numbered:
    """Compile ``statement`` once: its bound parameters named in ``variable`` are given per execution, the
    others keep the value they were built with."""
    compiled = statement.compile(dialect=db.engine.dialect)
    variable = set(variable)
    fixed = {name: value.value if isinstance(value, Enum) else value
             for name, value in compiled.params.items() if name not in variable}
    names: list[str] = []

    def number(match: re.Match) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return Numbered(_NAMED.sub(number, compiled.string).replace("%%", "%"), tuple(names), fixed)


@contextmanager
def _disconnects(driver: psycopg.Connection, invalidate: Callable[[], None]) -> Iterator[None]:
    """What SQLAlchemy does when a statement finds the server gone, for the ones run on the driver: the connection
    is invalidated (the request's rollback and the pool skip it) and every older pooled connection is dropped,
    then the error goes on to the 503 handler."""
    try:
        yield
    except (psycopg.OperationalError, psycopg.InterfaceError):
        if driver.closed or driver.broken:
            invalidate()
            db.engine.dispose(close=False)
        raise


def loaded_columns(model: type) -> list[Any]:
    """Every column ``model`` maps, in the order ``adopt`` expects them in a row."""
    return [prop.columns[0] for prop in inspect(model).column_attrs]


_SHAPES: dict[type, tuple[Any, tuple[str, ...], tuple[int, ...]]] = {}


def _shape(model: type) -> tuple[Any, tuple[str, ...], tuple[int, ...]]:
    """``model``'s mapper, its column attributes' keys (``loaded_columns``' order) and its primary key's places."""
    if model not in _SHAPES:
        mapper = inspect(model)
        keys = tuple(prop.key for prop in mapper.column_attrs)
        primary = tuple(keys.index(mapper.get_property_by_column(column).key) for column in mapper.primary_key)
        _SHAPES[model] = (mapper, keys, primary)
    return _SHAPES[model]


def adopt(model: type, row: tuple) -> Any:
    """The session's ``model`` instance for a row of ``loaded_columns(model)``, as if the ORM had loaded it (it
    is in the identity map, nothing pending), without the ORM's cost of loading it."""
    mapper, keys, primary = _shape(model)
    session = db.session()
    known = session.identity_map.get(mapper.identity_key_from_primary_key([row[i] for i in primary]))
    if known is not None:
        return known
    instance = mapper.class_manager.new_instance()  # as the ORM's loading does: no __init__, no change events
    instance.__dict__.update(zip(keys, row, strict=True))
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


def typed(name: str, column: Any) -> Any:
    """A parameter cast to its column's type (in a SELECT that feeds an INSERT PostgreSQL would not infer it)."""
    return cast(bindparam(name), column.type)


def in_session(sql: str, values: list[Any]) -> list[tuple]:
    """Rows of one statement run in the session's transaction (begun here if need be): writes go here, so
    the route's one commit (or the error handler's rollback) covers them with the rest of the request."""
    connection = db.session.connection()
    driver = connection.connection.driver_connection
    with _disconnects(driver, connection.invalidate), RawCursor(driver) as cursor:
        cursor.execute(sql, values, prepare=True)
        result = cursor.pgresult  # not cursor.description: that builds a Column per column, every time
        return cursor.fetchall() if result is not None and result.status == TUPLES_OK else []


def _working(session: Any) -> bool:
    """Whether the session's transaction has reached the database (holds a connection) or has changes to flush.
    A session begins its transaction on its first use, an ``adopt`` included, but takes a connection only when
    it first needs one."""
    transaction = session.get_transaction()
    return transaction is not None and (bool(transaction._connections) or bool(session.new or session.dirty
                                                                              or session.deleted))


def alone(sql: str, values: list[Any]) -> list[tuple]:
    """Rows of one statement, in one round trip where it can be.

    A request that already works in a transaction (a signed-in resident's account was loaded, an idempotency key
    was claimed), or a session bound to a connection (the tests' outer transaction), runs it there; otherwise a
    pooled connection runs it in autocommit, where a single statement is its own transaction: no BEGIN and COMMIT
    around it. For reads, and for a write that is whole in one statement (a booking with its notices).
    """
    scoped = db.session
    if scoped.registry.has():  # else nothing has used the session yet: no need to make one to learn that
        session = scoped()
        if _working(session) or not isinstance(session.get_bind(), Engine):
            return in_session(sql, values)
    elif not isinstance(scoped.session_factory.kw.get("bind") or db.engine, Engine):  # bound to a connection
        return in_session(sql, values)
    pooled = db.engine.raw_connection()
    try:
        connection = pooled.driver_connection
        connection.autocommit = True
        try:
            with _disconnects(connection, pooled.invalidate), RawCursor(connection) as cursor:
                cursor.execute(sql, values, prepare=True)
                return cursor.fetchall() if cursor.pgresult.status == TUPLES_OK else []
        finally:
            if not connection.closed:
                connection.autocommit = False
    finally:
        pooled.close()

