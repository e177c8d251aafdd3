"""A hypothesis state machine over the booking verbs, on real PostGIS.

Residents book, cancel, reschedule, wait, leave the waitlist; the store confirms, rejects,
cancels and marks no-shows. After every step, for every slot: the seats taken equal the
party sizes of the seat-holding bookings and never pass the capacity, nobody holds two
active bookings in one slot, nobody who fits is left waiting beside a free seat, and every
status change of every booking has its audit row.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, update

from app.auth.models import User
from app.errors import DomainError
from bookings import services
from bookings.models import Booking, BookingEvent, Schedule, Slot, WaitlistEntry
from bookings.states import ACTIVE, SEAT_HOLDING, BookingStatus
from tests import factories as f

S = BookingStatus
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Shanghai
RESIDENTS = 4
MACHINE_SETTINGS = settings(
    max_examples=30, stateful_step_count=25, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

residents = st.integers(0, RESIDENTS - 1)
slots = st.integers(0, 2)
parties = st.integers(1, 3)
picks = st.integers(0, 10_000)


def _world(db):
    """A store with two experiences: one books straight away (slots 0 and 1), one needs approval (slot 2)."""
    merchant = f.create_merchant()
    store = f.create_store(f.create_business(merchant))
    instant = f.create_offering(store, capacity=3, cancel_cutoff_hours=0, duration_min=60)
    approval = f.create_offering(store, capacity=3, cancel_cutoff_hours=0, duration_min=60)
    for offering, needs_approval in ((instant, False), (approval, True)):
        db.session.add(Schedule(offering_id=offering.id, min_notice_minutes=0, requires_approval=needs_approval))
    slot_rows = [f.create_slot(offering, START + timedelta(days=day), capacity=3)
                 for offering, day in ((instant, 2), (instant, 3), (approval, 4))]
    people = [f.create_user() for _ in range(RESIDENTS)]
    return merchant.id, [slot.id for slot in slot_rows], slot_rows[0].ends_at, [person.id for person in people]


def test_booking_state_machine_keeps_seats_equal_to_bookings(app, db):
    merchant_id, slot_ids, first_slot_ends_at, resident_ids = _world(db)
    session = db.session

    class BookingMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            # Each example runs in its own SAVEPOINT, rolled back in teardown: examples never meet.
            self.example = session.begin_nested()
            self.now = START
            self.outcomes: dict[str, int] = defaultdict(int)
            # What the last invariant check read, so rules can pick among existing rows without a query.
            self.bookings: list[tuple[int, int, int, str]] = []  # (id, slot_id, resident_id, status)
            self.waiting: list[tuple[int, int]] = []  # (entry id, resident_id)

        def teardown(self):
            self.example.rollback()
            session.expire_all()

        # -- helpers ----------------------------------------------------------------------

        def user(self, user_id: int) -> User:
            return session.get(User, user_id)

        def act(self, verb, *args):
            """Run one verb as one request would: fresh rows, and all its work undone if it fails."""
            for row in list(session.identity_map.values()):
                if isinstance(row, Slot | Booking | WaitlistEntry):  # what the verbs change; the rest is fixed
                    session.expire(row)
            try:
                with session.begin_nested():
                    verb(*args)
            except DomainError as error:
                self.outcomes[f"{verb.__name__}:{error.code}"] += 1
            else:
                self.outcomes[f"{verb.__name__}:ok"] += 1

        def has(self, statuses, slot: int | None = None) -> bool:
            return bool(self.choices(statuses, slot))

        def choices(self, statuses, slot: int | None = None) -> list[tuple[int, int, int, str]]:
            return [row for row in self.bookings
                    if row[3] in statuses and (slot is None or row[1] == slot_ids[slot])]

        def pick(self, pick: int, statuses, slot: int | None = None) -> tuple[int, int]:
            """(booking id, resident id) of one of the bookings in ``statuses``."""
            rows = self.choices(statuses, slot)
            booking_id, _, resident_id, _ = rows[pick % len(rows)]
            return booking_id, resident_id

        # -- rules --------------------------------------------------------------------------

        @initialize(capacities=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)))
        def set_capacities(self, capacities):
            for slot_id, capacity in zip(slot_ids, capacities, strict=True):
                session.execute(update(Slot).where(Slot.id == slot_id).values(capacity=capacity))

        @rule(resident=residents, slot=slots, party=parties)
        def book(self, resident, slot, party):
            self.act(services.book, self.user(resident_ids[resident]), slot_ids[slot], party, "", self.now)

        @precondition(lambda self: self.has(ACTIVE))
        @rule(pick=picks, by_store=st.booleans())
        def cancel(self, pick, by_store):
            booking_id, resident_id = self.pick(pick, ACTIVE)
            if by_store:
                self.act(services.cancel, self.user(merchant_id), booking_id, "Closed for a private event.", self.now)
            else:
                self.act(services.cancel, self.user(resident_id), booking_id, "", self.now)

        @precondition(lambda self: self.has(ACTIVE))
        @rule(pick=picks, slot=slots)
        def reschedule(self, pick, slot):
            booking_id, resident_id = self.pick(pick, ACTIVE)
            self.act(services.reschedule, self.user(resident_id), booking_id, slot_ids[slot], self.now)

        @rule(resident=residents, slot=slots, party=parties, fullest=st.booleans())
        def join_waitlist(self, resident, slot, party, fullest):
            if fullest:  # most slots have room most of the time: often queue where a queue can form
                free = dict(session.execute(select(Slot.id, Slot.capacity - Slot.seats_taken)
                                            .where(Slot.id.in_(slot_ids))).all())
                slot = min(range(len(slot_ids)), key=lambda index: free[slot_ids[index]])
            self.act(services.join_waitlist, self.user(resident_ids[resident]), slot_ids[slot], party, "", self.now)

        @precondition(lambda self: self.waiting)
        @rule(pick=picks)
        def leave_waitlist(self, pick):
            entry_id, resident_id = self.waiting[pick % len(self.waiting)]
            self.act(services.leave_waitlist, self.user(resident_id), entry_id)

        @precondition(lambda self: self.has({S.PENDING}))
        @rule(pick=picks)
        def confirm(self, pick):
            self.act(services.confirm, self.user(merchant_id), self.pick(pick, {S.PENDING})[0])

        @precondition(lambda self: self.has({S.PENDING}))
        @rule(pick=picks)
        def reject(self, pick):
            self.act(services.reject, self.user(merchant_id), self.pick(pick, {S.PENDING})[0],
                     "Fully booked by a group.", self.now)

        @precondition(lambda self: self.has({S.CONFIRMED}, slot=0))
        @rule(pick=picks)
        def no_show(self, pick):
            # Time only moves forward, past the end of the first slot: it can no longer be booked or
            # promoted into, while the two later slots still can.
            self.now = max(self.now, first_slot_ends_at + timedelta(minutes=1))
            self.act(services.mark_no_show, self.user(merchant_id), self.pick(pick, {S.CONFIRMED}, slot=0)[0],
                     self.now)

        # -- the invariant ---------------------------------------------------------------------

        @invariant()
        def seats_bookings_waitlist_and_audit_agree(self):
            bookings = session.execute(
                select(Booking.id, Booking.slot_id, Booking.resident_id, Booking.status, Booking.party_size)
                .where(Booking.slot_id.in_(slot_ids)).order_by(Booking.id)).all()
            slot_rows = session.execute(select(Slot.id, Slot.seats_taken, Slot.capacity, Slot.status, Slot.starts_at)
                                        .where(Slot.id.in_(slot_ids))).all()
            waiting = session.execute(
                select(WaitlistEntry.id, WaitlistEntry.slot_id, WaitlistEntry.resident_id, WaitlistEntry.party_size)
                .where(WaitlistEntry.slot_id.in_(slot_ids), WaitlistEntry.status == "waiting")
                .order_by(WaitlistEntry.id)).all()
            trail: dict[int, list[tuple[str | None, str]]] = defaultdict(list)
            for booking_id, src, dst in session.execute(
                    select(BookingEvent.booking_id, BookingEvent.from_status, BookingEvent.to_status)
                    .join(Booking, Booking.id == BookingEvent.booking_id)
                    .where(Booking.slot_id.in_(slot_ids)).order_by(BookingEvent.id)):
                trail[booking_id].append((src, dst))
            context = {"bookings": bookings, "slots": slot_rows, "outcomes": dict(self.outcomes)}

            # Seats taken == party sizes of the seat-holding bookings <= capacity, for every slot.
            held: dict[int, int] = defaultdict(int)
            for _, slot_id, _, status, party in bookings:
                if status in SEAT_HOLDING:
                    held[slot_id] += party
            for slot_id, seats_taken, capacity, _, _ in slot_rows:
                assert seats_taken == held[slot_id], (slot_id, seats_taken, held[slot_id], context)
                assert 0 <= seats_taken <= capacity, (slot_id, seats_taken, capacity, context)

            # Nobody holds two active bookings in one slot (a promotion never double-seats).
            active = [(slot_id, resident_id) for _, slot_id, resident_id, status, _ in bookings if status in ACTIVE]
            assert len(active) == len(set(active)), context

            # A freed seat goes to the waitlist: nobody whose party fits waits beside free seats.
            free = {slot_id: capacity - taken for slot_id, taken, capacity, status, starts_at in slot_rows
                    if status == "open" and starts_at > self.now}
            for entry_id, slot_id, _, party in waiting:
                assert slot_id not in free or party > free[slot_id], (entry_id, slot_id, party, free, context)

            # Every status change has its audit row: the trail starts from nothing and ends at the status.
            for booking_id, _, _, status, _ in bookings:
                events = trail[booking_id]
                assert events and events[0][0] is None, (booking_id, events)
                for (_, before), (src, _) in pairwise(events):
                    assert src == before, (booking_id, events)
                assert events[-1][1] == status, (booking_id, status, events)

            self.bookings = [(booking_id, slot_id, resident_id, status)
                             for booking_id, slot_id, resident_id, status, _ in bookings]
            self.waiting = [(entry_id, resident_id) for entry_id, _, resident_id, _ in waiting]

    run_state_machine_as_test(BookingMachine, settings=MACHINE_SETTINGS)
