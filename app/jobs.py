"""Periodic work, run by itself: `flask jobs run` loops over these jobs; cron or a systemd timer may
run `flask jobs run --once` instead. Every job is safe when two runners overlap (an advisory lock, or
rows claimed with SKIP LOCKED), so a second scheduler, or a manual `flask bookings sweep`, does no harm.

A job is (name, function of ``now`` returning a short summary); each runs in its own transaction, and
one that fails is logged and rolled back without stopping the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from flask import current_app

from app import clock
from app.extensions import db

log = logging.getLogger("onsite.jobs")


def _sweep(now: datetime) -> str:
    from bookings.services import sweep
    from trust.services import invite_reviews, sweep_disputes
    from trust.services.audits import mark_visited

    counts = sweep(now)
    # bookings/ knows nothing of disputes: the app runs trust's deadlines beside the booking sweep.
    counts["disputes_escalated"] = sweep_disputes(now)
    counts["review_invites"] = invite_reviews(now)
    counts["audits_visited"] = mark_visited(now)
    return ", ".join(f"{key}: {value}" for key, value in counts.items())


def _outbox(now: datetime) -> str:
    from bookings.services import deliver_outbox

    sent, failed = deliver_outbox(mail_sender(current_app.config), limit=200)
    return f"sent: {sent}, failed: {failed}"


def _radar(now: datetime) -> str:
    from zoneinfo import ZoneInfo

    from app.insights.services import DEFAULT_K, run_radar

    config = current_app.config
    counts = run_radar(now, zone=ZoneInfo(config.get("RADAR_TIMEZONE", "Asia/Shanghai")),
                       k=int(config.get("RADAR_K", DEFAULT_K)), salt=config["SECRET_KEY"])
    return ", ".join(f"{key}: {value}" for key, value in counts.items())


def _integrity(now: datetime) -> str:
    from trust.services import recompute_due

    done = recompute_due(now)  # merchants with new events, and each merchant daily; one run at a time
    return "another run holds the lock" if done is None else f"recomputed: {done}"


def _followers(now: datetime) -> str:
    from app.favourites.services import notify_followers

    return f"notices: {notify_followers(now)}"  # a store's news to its followers, once a local day at most


def _seat_requests(now: datetime) -> str:
    from app.favourites.services import notify_freed_seats

    return f"notices: {notify_freed_seats(now)}"  # "a seat is free" to residents who asked


def _message_digest(now: datetime) -> str:
    from app.conversations.services import digest_unread

    return f"e-mails: {digest_unread(now)}"  # one list per reader of threads unread for 15 minutes


JOBS: list[tuple[str, Callable[[datetime], str]]] = [("sweep", _sweep), ("outbox", _outbox), ("radar", _radar),
                                                     ("integrity", _integrity), ("followers", _followers),
                                                     ("seat_requests", _seat_requests),
                                                     ("message_digest", _message_digest)]


def run_jobs(names: list[str] | None = None) -> dict[str, str]:
    """Run each job once, each in its own transaction; return its summary, or the error it failed with."""
    results = {}
    for name, job in JOBS:
        if names and name not in names:
            continue
        try:
            results[name] = job(clock.now())
            db.session.commit()
        except Exception as exc:  # one failing job (say, the database restarting) must not stop the others
            db.session.rollback()
            log.exception("job %s failed", name)
            results[name] = f"failed: {exc.__class__.__name__}"
        finally:
            db.session.remove()
    return results


def run_forever(every: float, stop: threading.Event, names: list[str] | None = None) -> None:
    """Run the jobs every ``every`` seconds until ``stop`` is set."""
    while not stop.is_set():
        for name, summary in run_jobs(names).items():
            log.info("job %s: %s", name, summary)
        stop.wait(every)


def mail_sender(config):
    """Return send(to, subject, body): SMTP when configured, else a log line."""
    import logging
    import smtplib
    from email.message import EmailMessage

    host = config.get("SMTP_HOST")
    if not host:
        log = logging.getLogger("onsite.mail")

        def log_only(to: str, subject: str, body: str) -> None:
            log.info("mail to %s: %s — %s", to, subject, body)
        return log_only

    def smtp(to: str, subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = config["MAIL_FROM"], to, subject
        message.set_content(body)
        with smtplib.SMTP(host, config["SMTP_PORT"], timeout=20) as server:
            if config["SMTP_STARTTLS"]:
                server.starttls()
            if config.get("SMTP_USER"):
                server.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
            server.send_message(message)
    return smtp
