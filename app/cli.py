"""Flask commands: demo data and admin accounts. Parse, call one service, commit, print."""

from __future__ import annotations

import sys
import time

import click
from flask import Flask
from flask.cli import AppGroup

from app import clock
from app.extensions import db

demo_cli = AppGroup("demo", help="Load demo data.")
users_cli = AppGroup("users", help="Manage accounts.")


@demo_cli.command("load")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed for the generated city.")
@click.option("--force", is_flag=True, help="Load even when ONSITE_ENV=production.")
def demo_load(seed: int, force: bool) -> None:
    """Fill Hangzhou with demo merchants, stores, experiences and the demo accounts."""
    from flask import current_app

    from app.demo import load_demo_city
    from app.discovery.services import refresh_grid

    if current_app.config.get("ENV") == "production" and not force:
        # The demo accounts' passwords are published: they must never reach a real database by mistake.
        raise click.ClickException(
            "ONSITE_ENV=production: refusing to load the demo city (about 60 merchants, and accounts with "
            "published passwords such as merchant@demo.onsite) into this database. Add --force if you mean it.")

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

    _create_account_with_role(create_admin, "Admin", email, password, display_name)


@users_cli.command("create-auditor")
@click.option("--email", required=True, help="The auditor's e-mail address.")
@click.option("--password", default=None, help="Prompted for (hidden) when omitted on a terminal.")
@click.option("--name", "display_name", default="Auditor", show_default=True, help="Display name.")
def users_create_auditor(email: str, password: str | None, display_name: str) -> None:
    """Create a mystery-shopper auditor, or turn an existing account into one."""
    from app.auth.services import create_auditor

    _create_account_with_role(create_auditor, "Auditor", email, password, display_name)


def _create_account_with_role(create, label: str, email: str, password: str | None, display_name: str) -> None:
    """Ask for a missing password on a terminal, call ``create`` and report the outcome (exit 1 on bad fields)."""
    from app.errors import ValidationFailed

    if password is None:
        if not sys.stdin.isatty():
            raise click.UsageError("No --password given and standard input is not a terminal to ask for one.")
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create(email, password, display_name)
    except ValidationFailed as error:
        db.session.rollback()
        click.echo(f"Error: {error.message}", err=True)
        for field, problem in error.details.items():
            click.echo(f"  {field}: {problem}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(f"{label} {user.email} is ready (id {user.id}).")


discovery_cli = AppGroup("discovery", help="Discovery maintenance.")


@discovery_cli.command("refresh-grid")
def discovery_refresh_grid() -> None:
    """Recompute the map's cluster grid now (it also refreshes itself in the background)."""
    from app.discovery.services import refresh_grid

    started = time.perf_counter()
    refresh_grid(concurrently=False)
    db.session.commit()
    click.echo(f"Cluster grid refreshed in {time.perf_counter() - started:.1f} s.")


bookings_cli = AppGroup("bookings", help="Booking housekeeping.")
outbox_cli = AppGroup("outbox", help="E-mail delivery.")


@bookings_cli.command("sweep")
def bookings_sweep() -> None:
    """Mark no-shows, complete visits, send reminders, extend slots, escalate unanswered disputes; safe to run
    from cron."""

    from bookings.services import sweep
    from trust.services import sweep_disputes

    now = clock.now()
    counts = sweep(now)
    counts["disputes_escalated"] = sweep_disputes(now)  # bookings/ never imports trust/: the app calls both
    db.session.commit()
    click.echo(", ".join(f"{key}: {value}" for key, value in counts.items()))


@outbox_cli.command("send")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
def outbox_send(limit: int) -> None:
    """Deliver queued e-mails over SMTP (SMTP_HOST set), or log them."""
    from flask import current_app

    from app.jobs import mail_sender
    from bookings.services import deliver_outbox

    sent, failed = deliver_outbox(mail_sender(current_app.config), limit)
    db.session.commit()
    click.echo(f"Sent {sent} e-mail(s), {failed} failed.")


trust_cli = AppGroup("trust", help="Reviews and disputes: the operator's queues.")


@trust_cli.command("reports")
@click.option("--limit", type=click.IntRange(1, 10_000), default=200, show_default=True)
def trust_reports(limit: int) -> None:
    """List reported reviews waiting for the operator, oldest first."""
    from trust.services import open_reports

    reports = open_reports(limit)
    for report in reports:
        review = report.review
        click.echo(f"#{report.id} {report.created_at:%Y-%m-%d %H:%M} UTC  review {review.id} "
                   f"({review.status}, {review.rating}/5, store {review.store_id})  {report.reason}  "
                   f"by {report.reporter.email}")
        if report.note:
            click.echo(f"    note: {report.note}")
        click.echo(f"    text: {review.body[:160]}")
    click.echo(f"{len(reports)} open report(s).")


@trust_cli.command("rescore")
def trust_rescore() -> None:
    """Recount every reviewed experience's and store's ratings with today's category means (nightly)."""
    from trust.services import rescore_all

    done = rescore_all()
    db.session.commit()
    click.echo(f"Rescored {done} experience(s) and their stores.")


@trust_cli.command("recompute")
@click.option("--all", "full", is_flag=True, help="Every active merchant, not only those with new events.")
@click.option("--business", "business_id", type=int, default=None, help="Only this merchant, at once.")
def trust_recompute(full: bool, business_id: int | None) -> None:
    """Recompute integrity scores: merchants with new bookings, check-ins, disputes or reviews since their last
    score, or scored over a day ago; safe from cron and from several hosts (one run at a time)."""
    from trust.services import recompute_business, recompute_due

    started = time.perf_counter()
    if business_id is not None:
        from app.errors import NotFound

        try:
            result = recompute_business(business_id, clock.now())
        except NotFound as error:
            raise click.ClickException(f"No business {business_id}.") from error
        db.session.commit()
        click.echo(f"Business {business_id}: {'new' if result.score is None else result.score} "
                   f"({result.visits} visits in 90 days).")
        return
    done = recompute_due(clock.now(), full=full)
    db.session.commit()
    if done is None:
        click.echo("Another recompute is running; nothing done.")
        return
    click.echo(f"Recomputed {done} merchant(s) in {time.perf_counter() - started:.1f} s.")


jobs_cli = AppGroup("jobs", help="Periodic work: the booking sweep and e-mail delivery.")


@jobs_cli.command("run")
@click.option("--every", type=click.FloatRange(1, 3600), default=60, show_default=True,
              help="Seconds between two rounds.")
@click.option("--once", is_flag=True, help="Run every job once and exit (for cron or a systemd timer).")
@click.option("--job", "names", multiple=True, help="Run only this job (repeatable).")
def jobs_run(every: float, once: bool, names: tuple[str, ...]) -> None:
    """Run the periodic jobs every N seconds until stopped; safe beside another runner."""
    import signal
    import threading

    from app.jobs import run_forever, run_jobs

    if once:
        for name, summary in run_jobs(list(names)).items():
            click.echo(f"{name}: {summary}")
        return
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    click.echo(f"Running the periodic jobs every {every:g} s (Ctrl-C stops).")
    run_forever(every, stop, list(names))


def register_cli(app: Flask) -> None:
    """Add the command groups to ``flask``."""
    app.cli.add_command(bookings_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(jobs_cli)
    app.cli.add_command(discovery_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(trust_cli)
