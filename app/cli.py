"""Flask commands: demo data and admin accounts. Parse, call one service, commit, print."""

from __future__ import annotations

import sys
import time

import click
from flask import Flask
from flask.cli import AppGroup

from app.extensions import db

demo_cli = AppGroup("demo", help="Load demo data.")
users_cli = AppGroup("users", help="Manage accounts.")


@demo_cli.command("load")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed for the generated city.")
def demo_load(seed: int) -> None:
    """Fill Hangzhou with demo merchants, stores, experiences and the demo accounts."""
    from app.demo import load_demo_city

    from app.discovery.services import refresh_grid

    counts = load_demo_city(seed=seed)
    refresh_grid(concurrently=False)
    db.session.commit()
    state = "created" if counts["created"] else "already there, nothing changed"
    click.echo(f"Demo city {state}: {counts['businesses']} businesses, {counts['stores']} stores, "
               f"{counts['offerings']} experiences.")


@demo_cli.command("generate")
@click.option("--offerings", "count", type=click.IntRange(min=1), required=True,
              help="How many synthetic experiences to load.")
@click.option("--seed", type=int, default=1, show_default=True, help="Random seed; same seed, same data.")
def demo_generate(count: int, seed: int) -> None:
    """Bulk-load synthetic experiences around Hangzhou for benchmarks."""
    from app.demo import generate_offerings

    started = time.perf_counter()
    with click.progressbar(length=count, label="Loading experiences") as bar:
        def advance(done: int) -> None:
            bar.update(done - bar.pos)

        loaded = generate_offerings(count, seed=seed, progress=advance)
    db.session.commit()
    from app.discovery.services import refresh_grid

    refresh_grid(concurrently=False)
    db.session.commit()
    click.echo(f"Loaded {loaded} experiences in {time.perf_counter() - started:.1f} s.")


@users_cli.command("create-admin")
@click.option("--email", required=True, help="The admin's e-mail address.")
@click.option("--password", default=None, help="Prompted for (hidden) when omitted on a terminal.")
@click.option("--name", "display_name", default="Admin", show_default=True, help="Display name.")
def users_create_admin(email: str, password: str | None, display_name: str) -> None:
    """Create a platform admin, or promote an existing account."""
    from app.auth.services import create_admin
    from app.errors import ValidationFailed

    if password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("No --password given and standard input is not a terminal to ask for one.")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_admin(email, password, display_name)
    except ValidationFailed as error:
        db.session.rollback()
        click.echo(f"Error: {error.message}", err=True)
        for field, problem in error.details.items():
            click.echo(f"  {field}: {problem}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"Admin {user.email} is ready (id {user.id}).")


discovery_cli = AppGroup("discovery", help="Discovery maintenance.")


@discovery_cli.command("refresh-grid")
def discovery_refresh_grid() -> None:
    """Recompute the map's cluster grid now (it also refreshes itself in the background)."""
    from app.discovery.services import refresh_grid

    started = time.perf_counter()
    refresh_grid(concurrently=False)
    db.session.commit()
    click.echo(f"Cluster grid refreshed in {time.perf_counter() - started:.1f} s.")


def register_cli(app: Flask) -> None:
    """Add the command groups to ``flask``."""
    app.cli.add_command(discovery_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
