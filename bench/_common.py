"""Helpers shared by the benchmark scripts: their own database, gunicorn on a free port, clean-up.

Generalised from bench/nearby.py (same behaviour): a gunicorn runs in its own process group
and is killed with the group; every server made with :func:`register` is stopped by
:func:`stop_all`, which the scripts call in a ``finally``.
"""

from __future__ import annotations

import http.client
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"


class BenchError(RuntimeError):
    """Something that stops the benchmark from measuring (not a missed target)."""


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- database ---------------------------------------------------------------------

def bench_database_url(name: str, override_var: str = "BENCH_DATABASE_URL") -> str:
    """The benchmark's own database: ``$override_var``, else ``scripts/devdb.sh url NAME``.

    devdb.sh honours DATABASE_URL's server but always answers with database NAME, so a
    DATABASE_URL pointing at the development database is never the one emptied.
    """
    url = os.environ.get(override_var)
    if not url:
        url = subprocess.run([str(ROOT / "scripts/devdb.sh"), "url", name], check=True,
                             capture_output=True, text=True, cwd=ROOT).stdout.strip()
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    return url


def libpq_url(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def masked(url: str) -> str:
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


def app_env(url: str, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=url, FLASK_APP="wsgi:app", PYTHONDONTWRITEBYTECODE="1", **extra)
    return env


def flask(url: str, *args: str) -> None:
    log("flask " + " ".join(args))
    subprocess.run([sys.executable, "-m", "flask", *args], check=True, cwd=ROOT, env=app_env(url))


def sql(url: str, *statements: str) -> list:
    """Run statements in autocommit; return the rows of the last one."""
    rows = []
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for statement in statements:
            cur = conn.execute(statement)
            rows = cur.fetchall() if cur.description else []
    return rows


# -- servers -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 30) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


class Server:
    """A gunicorn (sync workers) in its own process group, killed with the group on stop()."""

    def __init__(self, name: str, app: str, env: dict[str, str], probe: str, chdir: Path = ROOT,
                 workers: int | None = None, extra_args: tuple[str, ...] = ()) -> None:
        workers = workers or int(os.environ.get("BENCH_WORKERS", 2))  # BENCH_WORKERS compares worker counts
        self.name, self.app, self.env, self.probe, self.chdir, self.workers = name, app, env, probe, chdir, workers
        self.extra_args = extra_args
        self.port = 0
        self.proc: subprocess.Popen | None = None
        self.log_file = tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False)

    def start(self) -> Server:
        self.port = free_port()
        # The worker class on the command line, for Onsite and baseline alike: the checkout's gunicorn.conf.py
        # (read from the working directory) must not quietly give one of them threads. BENCH_WORKER_CLASS and
        # BENCH_THREADS compare classes (docs/performance.md).
        workers = ("--worker-class", os.environ.get("BENCH_WORKER_CLASS", "sync"),
                   "--threads", os.environ.get("BENCH_THREADS", "1"))
        cmd = [sys.executable, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
               *workers, "--chdir", str(self.chdir), "--log-level", "warning", "--no-control-socket",
               *self.extra_args, self.app]
        self.proc = subprocess.Popen(cmd, cwd=self.chdir, env=self.env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.name} gunicorn exited with {self.proc.returncode}; log:\n{self.log_tail()}")
            try:
                status, body = http_get(self.port, self.probe, timeout=10)
            except OSError:
                time.sleep(0.2)
                continue
            if status != 200:
                raise BenchError(f"{self.name} answered {status} on {self.probe}: {body[:500]!r}")
            return self
        raise BenchError(f"{self.name} did not answer within 60 s; log:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        """The pids of the gunicorn workers (children of the master)."""
        if self.proc is None:
            return []
        try:
            text = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def log_tail(self, lines: int = 40) -> str:
        self.log_file.flush()
        text = Path(self.log_file.name).read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass
        self.proc = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


SERVERS: list[Server] = []


def register(server: Server) -> Server:
    """Remember a server so that :func:`stop_all` stops it on the way out."""
    SERVERS.append(server)
    return server


def stop_all() -> None:
    for server in SERVERS:
        server.stop()


def sigterm_as_interrupt() -> None:
    """Make ``kill`` behave like Ctrl-C, so ``finally`` blocks stop the servers."""
    def terminate(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)


# -- context -----------------------------------------------------------------------

def git_commit() -> str:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip() or "?"
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True, check=False).stdout.strip()
    return commit + (" (+ uncommitted changes)" if dirty else "")


def machine_line(url: str) -> str:
    return (f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"PostgreSQL {sql(url, 'SHOW server_version')[0][0]}")
