"""Gunicorn settings read from the working directory by every `gunicorn wsgi:app` here (make run, browser tests).

Threaded workers (gthread): a conversation's live stream (Server-Sent Events) holds its request open for
minutes, which in a sync worker would hold the whole worker; with threads it holds one thread, and waits on
a queue fed by the process's single LISTEN connection, not on a database connection. See README, "Live
conversations". GUNICORN_THREADS sets the threads per worker (streams plus ordinary requests).
"""

import os

worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "128"))


def _end_streams(worker) -> None:
    listener = getattr(worker.wsgi, "extensions", {}).get("conversations_listener")
    if listener is not None:
        listener.stop()


def worker_int(worker) -> None:
    """SIGINT/SIGQUIT: end the worker's open streams so it exits now, not when each stream times out."""
    _end_streams(worker)


def worker_exit(server, worker) -> None:
    """Graceful stop: the same, before the interpreter waits for the worker's threads."""
    _end_streams(worker)
