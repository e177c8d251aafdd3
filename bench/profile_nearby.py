"""Profile nearby requests through the Flask test client (a report, not a test).

Usage: DATABASE_URL=... SECRET_KEY=x LOG_LEVEL=WARNING python bench/profile_nearby.py  (a database with
offerings around the demo city, e.g. `flask demo generate --offerings 5000`). Prints ms per request, then cProfile.
"""

from __future__ import annotations

import cProfile
import pstats
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402

SORT = sys.argv[1] if len(sys.argv) > 1 else ""  # e.g. "&sort=distance"; default: the API's default order


def main(requests: int = 500) -> None:
    client = create_app().test_client()
    rng = random.Random(1)

    def url() -> str:
        return (f"/api/v1/offerings/nearby?lat={30.25 + rng.uniform(-0.1, 0.1):.5f}"
                f"&lng={120.16 + rng.uniform(-0.1, 0.1):.5f}&limit=20" + SORT)

    for _ in range(200):  # warm up: the fast path compiles its SQL once
        assert client.get(url()).status_code == 200
    started = time.perf_counter()
    for _ in range(requests):
        client.get(url())
    print(f"ms per request: {(time.perf_counter() - started) / requests * 1000:.2f}")
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(300):
        client.get(url())
    profile.disable()
    pstats.Stats(profile).sort_stats("cumulative").print_stats(35)


if __name__ == "__main__":
    main()
