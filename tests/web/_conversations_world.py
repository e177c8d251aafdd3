"""A conversation in the access-table world (tests/web/_bookings_world.py): the resident asked the store."""

from __future__ import annotations

from app import clock
from app.conversations import services


def add_conversation(world) -> tuple[int, int]:
    """The resident's thread with the world's store about its experience, with the store's answer (its id)."""
    thread = services.start_enquiry(world.resident, world.store.id, clock.now(), world.offering.id)
    services.send_message(world.resident, thread.id, "Can I bring my daughter?", clock.now())
    answer = services.send_message(world.users["staff"], thread.id, "Yes, from six years.", clock.now())
    return thread.id, answer.id
