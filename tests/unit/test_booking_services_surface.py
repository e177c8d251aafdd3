"""bookings.services is a package of verb families behind one public surface: every name the code base
takes from it is named in its ``__all__``, and no family imports one above it."""

from __future__ import annotations

import ast
from pathlib import Path

import bookings.services as services

ROOT = Path(__file__).resolve().parents[2]
FAMILIES = {"availability", "housekeeping", "idempotency", "lifecycle", "merchant", "notices", "queries",
            "records", "seats", "waitlist"}
# Lowest first: a family imports only from families before it.
ORDER = ["notices", "seats", "queries", "idempotency", "records", "availability", "waitlist", "lifecycle",
         "merchant", "housekeeping"]


def names_taken_from_services(tree: ast.AST) -> set[str]:
    """``from bookings.services import X`` and ``alias.X`` where ``from bookings import services as alias``."""
    names: set[str] = set()
    aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "bookings.services":
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module == "bookings":
            aliases |= {alias.asname or alias.name for alias in node.names if alias.name == "services"}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            names.add(node.attr)
    return names


def test_every_name_used_anywhere_is_public():
    used: dict[str, set[str]] = {}
    for folder in ("app", "bookings", "tests", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            if path.parent.name == "services" and path.parent.parent.name == "bookings":
                continue
            for name in names_taken_from_services(ast.parse(path.read_text(encoding="utf-8"))):
                used.setdefault(name, set()).add(str(path.relative_to(ROOT)))
    assert {"book", "cancel", "sweep", "has_room_on", "change_offering"} <= set(used)
    private = {name: sorted(paths) for name, paths in used.items()
               if name not in services.__all__ and name not in FAMILIES}
    assert private == {}


def test_all_names_exist_and_families_import_only_downwards():
    assert all(hasattr(services, name) for name in services.__all__)
    assert set(ORDER) == FAMILIES
    for family in ORDER:
        tree = ast.parse((ROOT / "bookings" / "services" / f"{family}.py").read_text(encoding="utf-8"))
        imported = {node.module.rsplit(".", 1)[1] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("bookings.services.")}
        assert imported <= set(ORDER[:ORDER.index(family)]), family
