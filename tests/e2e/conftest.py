"""A live gunicorn server on its own database, and Chromium that may only talk to it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from psycopg import sql

from app import clock

ROOT = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _admin(database_url: str) -> psycopg.Connection:
    return psycopg.connect(re.sub(r"^postgresql\+psycopg://", "postgresql://", database_url).rsplit("/", 1)[0]
                           + "/postgres", autocommit=True)


def _drop(connection: psycopg.Connection, name: str) -> None:
    connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _prepare(base_url: str, upload_dir: Path) -> str:
    """Build this run's own database: created afresh, migrated, the demo city loaded; return its URL.

    Every run starts from the same data at its own instant (``--at``), whatever earlier runs booked, and
    two runs on one machine (two developers, two checkouts) never share one. A database left by a run
    that was killed is dropped by the next.
    """
    base = urlsplit(base_url).path.lstrip("/")
    name = f"{base}_run{os.getpid()}"
    with _admin(base_url) as connection:
        for (stale,) in connection.execute("SELECT datname FROM pg_database WHERE datname LIKE %s",
                                           (f"{base}_run%",)).fetchall():
            pid = stale.removeprefix(f"{base}_run")
            if pid.isdigit() and (int(pid) == os.getpid() or not Path(f"/proc/{pid}").exists()):
                _drop(connection, stale)
    url = subprocess.run([str(ROOT / "scripts" / "devdb.sh"), "url", name], cwd=ROOT, check=True,
                         capture_output=True, text=True, env={**os.environ, "DATABASE_URL": base_url}).stdout.strip()
    assert urlsplit(url).path.lstrip("/") == name, url
    env = {**os.environ, "DATABASE_URL": url, "FLASK_APP": "wsgi:app", "UPLOAD_DIR": str(upload_dir)}
    for command in (["db", "upgrade"], ["demo", "load"]):  # the demo city's pictures go where the server reads
        done = subprocess.run([sys.executable, "-m", "flask", *command], cwd=ROOT, env=env, capture_output=True)
        if done.returncode:
            pytest.fail(f"flask {' '.join(command)} failed:\n{done.stdout.decode()}{done.stderr.decode()}")
    return url


def _redis_url() -> str:
    """The Redis of the environment (``make test`` exports it), else the checkout's private one."""
    if os.environ.get("REDIS_URL"):
        return os.environ["REDIS_URL"]
    done = subprocess.run([str(ROOT / "scripts" / "devredis.sh"), "url", "1"], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        pytest.fail(f"scripts/devredis.sh could not give a Redis:\n{done.stderr}")
    return done.stdout.strip()


def _limit_prefix() -> str:
    return f"onsite-e2e-{os.getpid()}"


@pytest.fixture(autouse=True)
def _fresh_live_rate_limits(request):
    """Each browser test starts with the live server's rate limits empty, as in-process tests do.

    The live server sees every browser of the run as one address (127.0.0.1): without this, the log-ins of
    earlier tests count against the per-address login limit of later ones, and which test meets it depends
    on how many journeys came before. Tests of the limits themselves make their attempts within one test.
    """
    if "live_server" not in request.fixturenames and "page" not in request.fixturenames:
        yield
        return
    import redis

    client = redis.Redis.from_url(_redis_url())
    try:
        keys = list(client.scan_iter(match=f"*{_limit_prefix()}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
    yield


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """Serve the app with gunicorn (2 workers) on a free loopback port; yield its base URL."""
    base_url = os.environ.get("E2E_DATABASE_URL")
    if not base_url:
        pytest.exit("E2E_DATABASE_URL is not set: run the tests with `make test`", returncode=2)
    log = tmp_path_factory.mktemp("live") / "gunicorn.log"
    database_url = _prepare(base_url, log.parent / "uploads")
    os.environ["E2E_DATABASE_URL"] = database_url  # tests that read the live server's rows read this run's
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "TILE_URL": "", "LOG_LEVEL": "WARNING",
           "SECRET_KEY": "e2e-secret-" + "k" * 32, "UPLOAD_DIR": str(log.parent / "uploads"),
           "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024",
           # Both workers count rate limits in one Redis, as in production; this run's keys are its own.
           "REDIS_URL": _redis_url(), "RATELIMIT_KEY_PREFIX": _limit_prefix()}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}", "--no-control-socket",
             "wsgi:app"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/auth/login", timeout=2) as response:  # noqa: S310 (our own http URL)
                if response.status == 200:
                    break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("live server did not start:\n" + log.read_text())
            time.sleep(0.2)
    yield base
    server.send_signal(signal.SIGINT)  # quick shutdown: nothing is left to finish gracefully
    server.wait(timeout=10)
    os.environ["E2E_DATABASE_URL"] = base_url
    with _admin(base_url) as connection:
        _drop(connection, urlsplit(database_url).path.lstrip("/"))


@pytest.fixture(scope="session")
def browser():
    """The system Chromium (Playwright downloads no browser here)."""
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM") or "/usr/bin/chromium"
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


WEST_LAKE = {"latitude": 30.2465, "longitude": 120.1485, "accuracy": 25}
# What any page did against the Content-Security-Policy or Permissions-Policy during the current test.
POLICY_PROBLEMS: list[str] = []
_POLICY_CONSOLE = re.compile(r"content.security.policy|permissions.policy|refused to", re.IGNORECASE)
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => window.__onsitePolicyViolation(
  `${e.effectiveDirective} blocked ${e.blockedURI || "inline"} on ${e.documentURI}`
  + ` (${e.sourceFile || "?"}:${e.lineNumber}) ${(e.sample || "").slice(0, 80)}`));
"""


def watch_policies(ctx) -> None:
    """Record in POLICY_PROBLEMS every CSP violation and every policy complaint on the console."""
    ctx.expose_binding("__onsitePolicyViolation", lambda source, text: POLICY_PROBLEMS.append(f"violation: {text}"))
    ctx.add_init_script(_REPORT_VIOLATIONS)

    def console(message) -> None:
        if message.type in ("error", "warning") and _POLICY_CONSOLE.search(message.text):
            POLICY_PROBLEMS.append(f"console {message.type}: {message.text} ({message.location.get('url')})")

    ctx.on("console", console)


@pytest.fixture(autouse=True)
def no_policy_violations():
    """Fail every browser test in which a page broke the Content-Security-Policy or Permissions-Policy."""
    POLICY_PROBLEMS.clear()
    yield
    problems = POLICY_PROBLEMS[:]
    POLICY_PROBLEMS.clear()
    assert not problems, "pages broke the security policies:\n" + "\n".join(problems)


def new_context(browser, **options):
    """A browser profile whose clock reads the run's instant (``--at``), as the live server's does.

    Every policy violation its pages cause fails the test (``no_policy_violations``).
    """
    ctx = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "en-US",
                                 "geolocation": WEST_LAKE, "permissions": ["geolocation"], **options})
    watch_policies(ctx)
    ctx.clock.install(time=clock.now())
    ctx.set_default_timeout(10_000)
    return ctx


@pytest.fixture
def context(browser):
    """A fresh browser profile that shares a position by West Lake when a page asks."""
    ctx = new_context(browser)
    yield ctx
    for page in ctx.pages:  # let reports the pages sent at the very end reach POLICY_PROBLEMS
        try:
            page.evaluate("0")
        except Exception:  # noqa: S110 (a page that crashed or closed has nothing left to report)
            pass
    ctx.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def outside_requests(context):
    """Record (and block) every request the page makes to anything but this machine."""
    seen: list[str] = []

    def guard(route):
        host = urlsplit(route.request.url).hostname or ""
        if route.request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            seen.append(route.request.url)
            route.abort()

    context.route("**/*", guard)
    return seen
