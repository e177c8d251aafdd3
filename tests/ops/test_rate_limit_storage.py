"""Rate limits in Redis: scripts/devredis.sh runs a private one, and the app keeps serving when Redis fails."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.ops.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
DEVREDIS = str(ROOT / "scripts" / "devredis.sh")


def devredis(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([DEVREDIS, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
                          check=False)


def ping(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as connection:
        connection.sendall(b"PING\r\n")
        return connection.recv(64)


@pytest.fixture
def redis_env(tmp_path):
    """devredis.sh's environment: no REDIS_URL, its files in a directory of the test's own."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env["DEVREDIS_DIR"] = str(tmp_path / "redis")
    yield env
    devredis("stop", env=env)


def test_devredis_runs_a_private_redis_on_a_port_of_its_own(redis_env, tmp_path):
    started = devredis("url", "3", env=redis_env)
    assert started.returncode == 0, started.stderr
    url = started.stdout.strip()
    assert url.startswith("redis://127.0.0.1:") and url.endswith("/3"), url
    port = int(url.split(":")[2].split("/")[0])
    assert port != 6379 and 59000 <= port < 60000
    assert ping(port) == b"+PONG\r\n"
    directory = tmp_path / "redis"
    pid = (directory / "redis.pid").read_text().strip()
    assert (directory / "port").read_text().strip() == str(port)

    again = devredis("url", env=redis_env)  # already running: the same server, nothing started
    assert again.stdout.strip() == url.removesuffix("/3") + "/0"
    assert (directory / "redis.pid").read_text().strip() == pid
    assert devredis("status", env=redis_env).stdout.startswith(f"devredis: private Redis in {directory}: running")

    assert devredis("stop", env=redis_env).returncode == 0
    assert not Path(f"/proc/{pid}").exists()
    assert "stopped" in devredis("status", env=redis_env).stdout
    with pytest.raises(OSError):
        ping(port)

    # A pid file left by a crash, naming some other process, is not taken for our server.
    (directory / "redis.pid").write_text("1\n")
    assert "stopped" in devredis("status", env=redis_env).stdout
    restarted = devredis("url", "3", env=redis_env)
    assert restarted.stdout.strip() == url, restarted.stderr  # the same port again
    assert ping(port) == b"+PONG\r\n"


def test_devredis_leaves_a_configured_redis_alone(redis_env, tmp_path):
    env = {**redis_env, "REDIS_URL": "redis://redis.internal:6380/2"}
    assert devredis("url", env=env).stdout == "redis://redis.internal:6380/2\n"
    assert devredis("start", env=env).returncode == 0
    assert not (tmp_path / "redis" / "redis.pid").exists()
    assert devredis("status", env=env).stdout.startswith("devredis: using REDIS_URL=redis://redis.internal:6380/2")


CLIENT = textwrap.dedent("""
    import uuid
    from app import create_app

    client = create_app().test_client()
    statuses = [client.post("/api/v1/auth/tokens", json={
        "email": f"nobody-{uuid.uuid4().hex[:8]}@test.onsite", "password": "not-the-password"}).status_code
        for _ in range(31)]
    print(" ".join(map(str, statuses)))
""")


def test_when_redis_fails_the_app_keeps_serving_counts_in_memory_and_says_so():
    env = {**os.environ, "DATABASE_URL": os.environ["TEST_DATABASE_URL"], "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
           "SECRET_KEY": "s" * 40, "LOG_LEVEL": "INFO", "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST": "1024"}
    done = subprocess.run([sys.executable, "-c", CLIENT], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = done.stdout.split()
    # 30 tokens a minute: answered while Redis is down, and still limited (in this process's memory).
    assert statuses == ["401"] * 30 + ["429"], (statuses, done.stderr[-3000:])
    assert "Rate limit storage unreachable - falling back to in-memory storage" in done.stderr
