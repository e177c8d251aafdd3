"""Live delivery: one LISTEN connection per process fans NOTIFYs out to the streams open in it.

A send runs ``pg_notify`` in its transaction, so the notice leaves only on commit and reaches every process
(every gunicorn worker, every host) listening on the one database. Each process holds a single extra
PostgreSQL connection for this, however many streams it serves; a stream waits on a queue, and reads the
messages themselves from the database (the notice only says "seq N exists"), so a lost or merged notice
costs nothing: the next wake-up or keep-alive reads everything after the last seq sent.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator

import psycopg

log = logging.getLogger(__name__)

CHANNEL = "conversations"


def store_channel(store_id: int) -> int:
    """The subscription key of a store's inbox: negative, so it never meets a conversation's id."""
    return -store_id


class Listener:
    """A daemon thread LISTENing on ``CHANNEL``; ``subscribe(conversation_id)`` gives a queue of its seqs, and
    ``subscribe(store_channel(store_id))`` one of the seqs sent in any of the store's threads (its inbox)."""

    def __init__(self, dsn: str, *, timeout: float = 5.0) -> None:
        self.dsn = dsn
        self.timeout = timeout
        self._lock = threading.Lock()
        self._queues: dict[int, set[queue.Queue]] = {}
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.connected = threading.Event()

    def start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="conversations-listen", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """Close the LISTEN loop and end every open stream (a worker shutting down must not wait for them)."""
        self._stop.set()
        self._wake_all()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def subscribe(self, conversation_id: int) -> queue.Queue:
        self.start()
        inbox: queue.Queue = queue.Queue(maxsize=1000)
        with self._lock:
            self._queues.setdefault(conversation_id, set()).add(inbox)
        return inbox

    def unsubscribe(self, conversation_id: int, inbox: queue.Queue) -> None:
        with self._lock:
            subscribers = self._queues.get(conversation_id)
            if subscribers is not None:
                subscribers.discard(inbox)
                if not subscribers:
                    del self._queues[conversation_id]

    def subscribers(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._queues.values())

    def _deliver(self, payload: str) -> None:
        try:
            notice = json.loads(payload)
            conversation_id, seq = int(notice["c"]), int(notice["s"])
            store_key = store_channel(int(notice["store"])) if "store" in notice else None
        except (ValueError, KeyError, TypeError):
            return
        with self._lock:  # the thread's streams, and the inbox streams of its store
            targets = [*self._queues.get(conversation_id, ()), *self._queues.get(store_key, ())]
        for inbox in targets:
            try:
                inbox.put_nowait(seq)
            except queue.Full:  # a stuck reader: it re-reads from the database when it wakes anyway
                pass

    def _run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    backoff = 0.5
                    while not self._stop.is_set():
                        for notice in conn.notifies(timeout=self.timeout):
                            self._deliver(notice.payload)
                        conn.execute("SELECT 1")  # notice a dead connection between quiet spells
            except psycopg.Error:
                log.warning("conversations listener lost its connection; reconnecting", exc_info=True)
            self.connected.clear()
            self._wake_all()  # streams re-read the database: nothing sent during the gap is missed
            self._stop.wait(backoff)
            backoff = min(backoff * 2, 10.0)

    def _wake_all(self) -> None:
        with self._lock:
            targets = [(cid, q) for cid, qs in self._queues.items() for q in qs]
        for _cid, inbox in targets:
            try:
                inbox.put_nowait(0)
            except queue.Full:
                pass


def sse_events(listener: Listener, conversation_id: int, last_seq: int,
               read_after: Callable[[int], list[tuple[int, str]]], *, keepalive: float = 15.0,
               lifetime: float = 300.0, clock: Callable[[], float] = time.monotonic) -> Iterator[str]:
    """Server-Sent Events for one thread: everything after ``last_seq`` from the database, then live.

    ``read_after(seq)`` returns ``(seq, json)`` pairs of the messages after ``seq``, oldest first. Each
    event carries ``id: <seq>`` so a reconnecting browser's Last-Event-ID resumes exactly after it. The
    stream ends after ``lifetime`` seconds (the browser reconnects), so no worker thread is held forever.
    """
    inbox = listener.subscribe(conversation_id)  # before the first read: a send between them still wakes us
    try:
        yield "retry: 2000\n\n"
        deadline = clock() + lifetime
        while True:
            for seq, data in read_after(last_seq):
                if seq > last_seq:
                    last_seq = seq
                    yield f"id: {seq}\nevent: message\ndata: {data}\n\n"
            remaining = deadline - clock()
            if remaining <= 0 or listener.stopping:
                return
            try:
                inbox.get(timeout=min(keepalive, remaining))
                while True:  # several notices at once: one read covers them
                    inbox.get_nowait()
            except queue.Empty:
                yield ": keep-alive\n\n"
    finally:
        listener.unsubscribe(conversation_id, inbox)


def sse_wakeups(listener: Listener, key: int, *, keepalive: float = 15.0, lifetime: float = 300.0,
                clock: Callable[[], float] = time.monotonic) -> Iterator[str]:
    """Server-Sent Events that say only "something changed" (``event: changed``) for a subscription key: the
    page then reads what it shows afresh, so a merged or lost notice costs nothing. Ends after ``lifetime``."""
    inbox = listener.subscribe(key)
    try:
        yield "retry: 2000\n\n"
        deadline = clock() + lifetime
        while True:
            remaining = deadline - clock()
            if remaining <= 0 or listener.stopping:
                return
            try:
                inbox.get(timeout=min(keepalive, remaining))
            except queue.Empty:
                yield ": keep-alive\n\n"
                continue
            while not inbox.empty():  # several notices at once: one event covers them
                inbox.get_nowait()
            yield "event: changed\ndata: {}\n\n"
    finally:
        listener.unsubscribe(key, inbox)
