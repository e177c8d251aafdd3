"""The API does what /openapi.json says, checked by schemathesis with every check it has.

schemathesis 4 runs its whole engine (examples, coverage, fuzzing and stateful phases; positive and negative
data; every check) in-process against the WSGI app, as an anonymous client, a resident and a merchant, on the
test database: the world of tests/web/_bookings_world.py, rolled back afterwards, at the tests' frozen instant.
In-process rather than against a live gunicorn: the run sees the fixtures' rows and the frozen clock, needs no
server or database of its own, and a failure's reproduction is a request to ``client`` away. (What only the
HTTP server does, its 414 for request lines over 4 KB, is documented and left to it.)

The run is bounded for CI (MAX_EXAMPLES per operation and phase, one worker, a fixed seed): each actor takes
about half a minute on 2 cores. Set ONSITE_FUZZ_EXAMPLES for a longer run.
"""

from __future__ import annotations

import io
import json
import os

import pytest
import schemathesis
from PIL import Image
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import Failure
from schemathesis.engine import Status, from_schema
from schemathesis.engine.events import EngineFinished, FatalError, NonFatalError, ScenarioFinished
from schemathesis.specs.openapi.checks import positive_data_acceptance
from schemathesis.transport.wsgi import WSGITransport

from app.media import services as media
from tests import factories as f
from tests.web._bookings_world import build_world

MAX_EXAMPLES = int(os.environ.get("ONSITE_FUZZ_EXAMPLES", 8))
SEED = 20261128

# Rules between fields (or against stored state) that JSON Schema cannot state: a request that meets the
# document may still be refused 422 naming one of these fields, and the operation's description says so.
CROSS_FIELD_RULES = {
    # max_price >= min_price; a cursor this search gave out; party and part_of_day only with available_on
    "GET /api/v1/offerings/nearby": {"max_price", "cursor", "party", "part_of_day"},
    # min < max, 2° at most; party and part_of_day only with available_on
    "GET /api/v1/offerings/in-view": {"min_lng", "min_lat", "max_lng", "max_lat", "bbox", "party", "part_of_day"},
    "GET /api/v1/offerings/{offering_id}/slots": {"to"},  # after from, at most 62 days later
    "POST /api/v1/auth/register": {"password"},  # not common, not made of the e-mail or the name
    "PUT /api/v1/offerings/{offering_id}/schedule": {"every.to", "weekly", "weeks_ahead", "exceptions"},
    "POST /api/v1/bookings/{booking_id}/payments": {"supersedes_id"},  # an earlier payment of this booking
    "POST /api/v1/stores": {"hours"},  # weekly intervals must not overlap
    "PATCH /api/v1/stores/{store_id}": {"hours"},
    # the file must decode as a JPEG, PNG or WebP image; the order must name each photo of the gallery once
    "POST /api/v1/offerings/{offering_id}/photos": {"photo"},
    "POST /api/v1/stores/{store_id}/photos": {"photo"},
    "PUT /api/v1/offerings/{offering_id}/photos/order": {"photo_ids"},
    "PUT /api/v1/stores/{store_id}/photos/order": {"photo_ids"},
    # disputes: texts are measured once trimmed; an amount goes with a refund, none with an apology, and is above 0;
    # a reason must fit what happened to the booking; to contest needs a message, to accept an offer
    "POST /api/v1/bookings/{booking_id}/dispute": {"description", "asked_amount", "reason"},
    "POST /api/v1/disputes/{dispute_id}/answer": {"message", "offer", "amount"},
    "POST /api/v1/disputes/{dispute_id}/escalate": {"note"},
    "POST /api/v1/disputes/{dispute_id}/decide": {"note", "compensation"},
    "POST /api/v1/disputes/{dispute_id}/photos": {"photos"},
}


def _named_fields(response) -> set[str]:
    try:
        details = json.loads(response.content)["error"]["details"]
    except (ValueError, KeyError, TypeError):
        return set()
    return {key.split("[", 1)[0] if key.startswith("hours[") else key for key in details}


@schemathesis.check
def positive_data_acceptance_within_cross_field_rules(ctx, response, case):
    """schemathesis's positive_data_acceptance, except for the documented cross-field refusals above."""
    try:
        return positive_data_acceptance(ctx, response, case)
    except Failure:
        allowed = CROSS_FIELD_RULES.get(case.operation.label, set())
        named = _named_fields(response)
        if response.status_code == 422 and named and named <= allowed:
            return None
        raise


def _config(headers: dict[str, str], world) -> SchemathesisConfig:
    ids = {
        "booking_id": [world.booking.id, world.pending.id, world.ended.id],
        "store_id": [world.store.id, world.other_offering.store_id],
        "offering_id": [world.offering.id, world.other_offering.id],
        "slot_id": [world.slot.id, world.free_slot.id, world.full_slot.id, world.other_slot.id],
        "business_id": [world.store.business_id, world.other_offering.store.business_id],
        "entry_id": [world.entry.id],
        "photo_id": world.photo_ids,
    }
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "workers": 1,
        "headers": headers,
        "suppress-health-check": ["all"],
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True,
                       "database": "none"},
        "checks": {"enabled": True, "positive_data_acceptance": {"enabled": False}},
        "phases": {"stateful": {"max-steps": 6}},
        "dictionaries": {name: {"values": values} for name, values in ids.items()},
        # Real rows half of the time: the other half probes ids that are not there or not the caller's.
        "parameters": {**{f"path.{name}": {"dictionary": name, "probability": 0.5} for name in ids},
                       **{f"body.{name}": {"dictionary": name, "probability": 0.5} for name in ids}},
    })


def _describe(event: ScenarioFinished) -> list[str]:
    lines = []
    for case_id, checks in event.recorder.checks.items():
        for check in checks:
            if check.status != Status.FAILURE or check.failure_info is None:
                continue
            info = check.failure_info
            interaction = event.recorder.interactions.get(case_id)
            answer = interaction.response if interaction is not None else None
            got = f"{answer.status_code} {(answer.content or b'')[:300]!r}" if answer is not None else "no response"
            lines.append(f"{event.label}: {check.name}: {info.failure.title} -> {got}\n    {info.code_sample}")
    return lines


def run_schemathesis(app, headers: dict[str, str], world) -> tuple[list[str], dict[str, int]]:
    """Run every phase and check; return the failures, one line each, and what was tried."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app, config=_config(headers, world))
    failures: list[str] = []
    stats = {"operations": len(list(schema.get_all_operations())), "scenarios": 0, "requests": 0}
    for event in from_schema(schema).execute():
        if isinstance(event, ScenarioFinished):
            stats["scenarios"] += 1
            stats["requests"] += len(event.recorder.interactions)
            failures.extend(_describe(event))
        elif isinstance(event, NonFatalError):
            failures.append(f"error: {event.label}: {event.info.format()}")
        elif isinstance(event, FatalError):
            failures.append(f"fatal: {event.exception!r}")
        elif isinstance(event, EngineFinished):
            break
    return sorted(set(failures)), stats


@pytest.fixture(autouse=True)
def _probes_without_socket_settings(monkeypatch):
    """schemathesis 4.32.5 passes max_redirects and friends to werkzeug's in-process client when its
    ignored_auth check sends a probe without credentials (it drops them only along with a network session)."""
    original = WSGITransport.send

    def send(self, case, *, session=None, **kwargs):
        if session is None:
            for name in ("max_redirects", "verify", "cert", "proxies"):
                kwargs.pop(name, None)
        return original(self, case, session=session, **kwargs)

    monkeypatch.setattr(WSGITransport, "send", send)


@pytest.fixture
def world(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))  # what uploads the run makes goes away with it
    world = build_world()
    cover = io.BytesIO()
    Image.new("RGB", (400, 300), (200, 120, 40)).save(cover, "PNG")
    world.photo_ids = [photo.id for photo in media.add_photos(
        world.owner, world.offering, [("cover.png", cover.getvalue()), ("more.png", cover.getvalue())])]
    return world


@pytest.mark.parametrize("who", ["anonymous", "resident", "merchant"])
def test_api_does_what_its_document_says(app, db, world, who, capsys):
    user = {"anonymous": None, "resident": world.resident, "merchant": world.owner}[who]
    headers = f.token_for(user) if user else {}
    db.session.commit()  # the savepoint; the outer transaction still rolls everything back
    failures, stats = run_schemathesis(app, headers, world)
    with capsys.disabled():
        print(f"\nschemathesis as {who}: {stats['operations']} operations, {stats['scenarios']} scenarios, "
              f"{stats['requests']} requests, {len(failures)} failures")
    assert not failures, "\n".join(failures)
