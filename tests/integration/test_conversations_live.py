"""Live delivery: a stream in this process shows a message another process sends (NOTIFY on commit, one
LISTEN connection here), and a reconnect with Last-Event-ID loses nothing and repeats nothing."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from app.auth.models import User
from app.conversations import services as conv
from app.extensions import db
from tests.integration._conversations import committed_thread

NOW = datetime(2030, 3, 5, 6, 0, tzinfo=UTC)

SEND_FROM_ANOTHER_PROCESS = """
import sys
from app import clock, create_app
from app.auth.models import User
from app.config import TestConfig
from app.conversations import services
from app.extensions import db
app = create_app(TestConfig())
print("ready", flush=True)
sys.stdin.readline()  # the test's go: the stream is open by now
with app.app_context():
    services.send_message(db.session.get(User, int(sys.argv[1])), int(sys.argv[2]), sys.argv[3], clock.now())
    db.session.commit()
"""


@contextmanager
def another_process(user_id: int, thread_id: int, body: str):
    """A process that sends ``body`` when told (``go()``), started and ready (the app imported and made) before
    the stream opens: a stream lives 5 s here, and starting Python with the app can take longer on a busy
    machine."""
    with subprocess.Popen([sys.executable, "-c", SEND_FROM_ANOTHER_PROCESS, str(user_id), str(thread_id), body],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=os.environ.copy()) as sender:
        try:
            assert sender.stdout.readline().strip() == "ready"

            def go() -> None:
                sender.stdin.write("go\n")
                sender.stdin.flush()
                assert sender.wait(timeout=60) == 0

            yield go
        finally:
            if sender.poll() is None:
                sender.kill()


@pytest.fixture
def thread(app, clock, monkeypatch):
    clock.travel(NOW, tick=False)
    monkeypatch.setitem(app.config, "CONVERSATION_KEEPALIVE_SECONDS", 0.5)
    monkeypatch.setitem(app.config, "CONVERSATION_STREAM_SECONDS", 5)  # each stream ends by itself
    with committed_thread(app, NOW, "Live stream store") as ids:
        yield ids


def _send(app, user_id: int, thread_id: int, body: str) -> int:
    with app.app_context():
        seq = conv.send_message(db.session.get(User, user_id), thread_id, body, NOW).seq
        db.session.commit()
        return seq


class Stream:
    """A stream read on a thread of its own: events land in a queue as (seq, data)."""

    def __init__(self, app, thread_id: int, headers: dict, last_event_id: int | None = None) -> None:
        if last_event_id is not None:
            headers = {**headers, "Last-Event-ID": str(last_event_id)}
        self.response = app.test_client().get(f"/api/v1/conversations/{thread_id}/stream", headers=headers,
                                              buffered=False)
        assert self.response.status_code == 200
        assert self.response.mimetype == "text/event-stream"
        self.events: queue.Queue = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        buffer = ""
        for chunk in self.response.response:
            buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
            while "\n\n" in buffer:
                event, buffer = buffer.split("\n\n", 1)
                fields = dict(line.split(": ", 1) for line in event.splitlines() if line and ": " in line
                              and not line.startswith(":"))
                if "id" in fields:
                    self.events.put((int(fields["id"]), fields["data"]))

    def take(self, n: int, timeout: float = 10.0) -> list[int]:
        deadline = time.monotonic() + timeout
        seqs = []
        while len(seqs) < n:
            seqs.append(self.events.get(timeout=max(0.01, deadline - time.monotonic()))[0])
        return seqs

    def close(self) -> None:
        """Wait for the stream's end (its lifetime): closing it under the reading thread is not allowed."""
        self.reader.join(timeout=30)
        self.response.close()


def test_a_message_sent_by_another_process_arrives_live(app, thread):
    _send(app, thread["resident"], thread["thread"], "first")
    with another_process(thread["resident"], thread["thread"], "from the other process") as go:
        stream = Stream(app, thread["thread"], thread["clerk_auth"])
        try:
            assert stream.take(1) == [1]  # what was there before the stream opened
            started = time.monotonic()
            go()
            assert stream.take(1) == [2]
            assert time.monotonic() - started < 30  # live, not at the stream's end
            assert stream.events.empty()
        finally:
            stream.close()


def test_reconnect_with_last_event_id_loses_nothing_and_repeats_nothing(app, thread):
    resident, clerk, thread_id = thread["resident"], thread["clerk"], thread["thread"]
    for n in range(3):
        _send(app, resident, thread_id, f"before {n}")
    first = Stream(app, thread_id, thread["clerk_auth"])
    seen = first.take(3)
    _send(app, resident, thread_id, "live 3")
    seen += first.take(1)
    first.close()
    for n in range(2):  # while the merchant is offline
        _send(app, resident, thread_id, f"offline {n}")
    second = Stream(app, thread_id, thread["clerk_auth"], last_event_id=seen[-1])
    try:
        seen += second.take(2)
        _send(app, clerk, thread_id, "back online")
        seen += second.take(1)
        time.sleep(1.0)  # a keep-alive or two: nothing more may come
        assert second.events.empty()
    finally:
        second.close()
    assert seen == [1, 2, 3, 4, 5, 6, 7]


def test_the_stream_is_for_the_two_sides_only(app, thread):
    from tests import factories as f

    with app.app_context():
        stranger = f.create_user(email=f"stranger-{thread['thread']}@live.test")  # committed: its own address
        headers, stranger_id = f.token_for(stranger), stranger.id
        db.session.commit()
    try:
        response = app.test_client().get(f"/api/v1/conversations/{thread['thread']}/stream", headers=headers)
        assert response.status_code == 404 and response.json["error"]["code"] == "not_found"
    finally:
        with app.app_context():
            db.session.delete(db.session.get(User, stranger_id))
            db.session.commit()


def test_the_store_inbox_stream_says_when_any_of_its_threads_changes(app, thread):
    with another_process(thread["resident"], thread["thread"], "a new question") as go:
        response = app.test_client().get(f"/api/v1/stores/{thread['store']}/conversations/stream",
                                         headers=thread["clerk_auth"], buffered=False)
        assert response.status_code == 200 and response.mimetype == "text/event-stream"
        events: queue.Queue = queue.Queue()

        def read() -> None:
            for chunk in response.response:
                text = chunk.decode() if isinstance(chunk, bytes) else chunk
                for _ in range(text.count("event: changed")):
                    events.put("changed")

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            time.sleep(0.5)  # subscribed
            go()
            assert events.get(timeout=10) == "changed"
        finally:
            reader.join(timeout=30)  # the stream ends by itself (its lifetime)
            response.close()
    for headers in (thread["resident_auth"], {}):
        refused = app.test_client().get(f"/api/v1/stores/{thread['store']}/conversations/stream", headers=headers)
        assert refused.status_code in (401, 404)
