"""Profile bookings through the Flask test client (a report, not a test).

Usage: `make bench-booking` once (it fills onsite_bench_booking), then
    DATABASE_URL=$(scripts/devdb.sh url onsite_bench_booking) SECRET_KEY=x LOG_LEVEL=WARNING \
        .venv/bin/python bench/profile_booking.py [N]
It books N (default 300) free seats in future slots for the bench's residents, each resident a slot it does not
hold yet, and prints ms per booking (wall, and CPU of this process: the app's share), then cProfile's lines for
the app's own code and the libraries that weigh (cumulative; SORT=tottime orders them by time in the function).
The bookings it makes stay (the next `make bench-booking` empties the database).
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import exists, select  # noqa: E402

from app import clock, create_app  # noqa: E402
from app.auth.models import User  # noqa: E402
from app.auth.services import issue_token  # noqa: E402
from app.extensions import db  # noqa: E402
from bookings.models import Booking, Slot  # noqa: E402

SHOWN = ("/app/", "/bookings/", "/trust/", "marshmallow/schema.py", "apiflask/scaffold.py", "flask_login",
         "flask_babel/__init__.py", "sqlalchemy/orm/session.py", "psycopg/connection.py")


def main(count: int = 300) -> None:
    app = create_app()
    with app.app_context():
        residents = db.session.scalars(select(User).where(User.email.like("resident%@bench.onsite"))
                                       .order_by(User.id)).all()
        slots = db.session.scalars(select(Slot.id).where(
            Slot.starts_at > clock.now() + timedelta(days=2), Slot.seats_taken < Slot.capacity)
            .order_by(Slot.id.desc()).limit(3 * count)).all()
        pairs = []
        for slot_id in slots:
            for resident in residents[len(pairs) % len(residents):]:
                held = db.session.scalar(select(exists().where(Booking.slot_id == slot_id,
                                                               Booking.resident_id == resident.id)))
                if not held:
                    pairs.append((slot_id, issue_token(resident)))
                    break
            if len(pairs) == count:
                break
        db.session.commit()
    if len(pairs) < count:
        sys.exit(f"only {len(pairs)} free (slot, resident) pairs: run `make bench-booking` first")
    client = app.test_client()

    def book(slot_id: int, token: str) -> None:
        response = client.post("/api/v1/bookings", json={"slot_id": slot_id, "party_size": 1},
                               headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 201:
            sys.exit(f"booking answered {response.status_code}: {response.get_data(as_text=True)[:300]}")

    warm, timed, profiled = pairs[:count // 6], pairs[count // 6:count // 2], pairs[count // 2:]
    for pair in warm:
        book(*pair)
    started, cpu = time.perf_counter(), time.process_time()
    for pair in timed:
        book(*pair)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"ms per booking: {wall / len(timed) * 1000:.2f} wall, {cpu / len(timed) * 1000:.2f} CPU of this process "
          f"({len(timed)} bookings)")
    profile = cProfile.Profile()
    profile.enable()
    for pair in profiled:
        book(*pair)
    profile.disable()
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats(__import__("os").environ.get("SORT", "cumulative")).print_stats(400)
    print(f"cProfile of {len(profiled)} bookings (cumulative), the app's code and the libraries that weigh:")
    for line in out.getvalue().splitlines():
        if "ncalls" in line or any(part in line for part in SHOWN):
            print(line[:200])


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
