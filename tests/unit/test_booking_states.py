"""The booking state table, checked over every (from, to) pair of states."""

from __future__ import annotations

import itertools

import pytest

from bookings.errors import InvalidTransition
from bookings.states import ACTIVE, ALLOWED, CANCELLED, SEAT_HOLDING, BookingStatus, assert_transition, can_transition

S = BookingStatus
PAIRS = list(itertools.product(BookingStatus, repeat=2))
TERMINAL = [S.COMPLETED, S.REJECTED, S.CANCELLED_BY_RESIDENT, S.CANCELLED_BY_MERCHANT, S.NO_SHOW]


def test_every_status_has_a_row():
    assert set(ALLOWED) == set(BookingStatus)
    assert len(PAIRS) == len(BookingStatus) ** 2


@pytest.mark.parametrize(("src", "dst"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_assert_transition_refuses_exactly_what_the_table_leaves_out(src, dst):
    allowed = dst in ALLOWED[src]
    assert can_transition(src, dst) is allowed
    assert can_transition(str(src), str(dst)) is allowed
    if allowed:
        assert_transition(src, dst)
    else:
        with pytest.raises(InvalidTransition) as excinfo:
            assert_transition(src, dst)
        assert excinfo.value.code == "invalid_transition"
        assert excinfo.value.http_status == 409
        assert excinfo.value.details == {"from": src, "to": dst}


@pytest.mark.parametrize("src", TERMINAL)
def test_terminal_states_have_no_exits(src):
    assert ALLOWED[src] == frozenset()
    for dst in BookingStatus:
        with pytest.raises(InvalidTransition):
            assert_transition(src, dst)


def test_terminal_states_are_exactly_those_without_exits():
    assert {status for status, exits in ALLOWED.items() if not exits} == set(TERMINAL)


def test_no_state_moves_to_itself():
    assert all(status not in ALLOWED[status] for status in BookingStatus)


@pytest.mark.parametrize(("src", "dst"), [("confirmed", "teleported"), ("teleported", "confirmed"), ("", "")])
def test_unknown_states_are_refused(src, dst):
    assert not can_transition(src, dst)
    with pytest.raises(InvalidTransition) as excinfo:
        assert_transition(src, dst)
    assert excinfo.value.code == "invalid_transition"


def test_state_groups_agree_with_the_table():
    assert ACTIVE <= SEAT_HOLDING
    assert not CANCELLED & SEAT_HOLDING
    assert CANCELLED | SEAT_HOLDING == set(BookingStatus)
    # Only an active booking can still change state; seat-holding terminal states are the ones
    # that keep their seats for the record (completed, no-show).
    assert {status for status, exits in ALLOWED.items() if exits} == ACTIVE


@pytest.mark.parametrize(("model", "enum"), [("Slot", "SlotStatus"), ("WaitlistEntry", "WaitlistStatus"),
                                             ("Booking", "BookingStatus")])
def test_each_status_enum_is_exactly_what_its_table_allows(model, enum):
    import re

    from bookings import models, states

    table = getattr(models, model).__table__
    check = next(c for c in table.constraints if str(c.name) == f"ck_{table.name}_status_known")
    assert set(re.findall(r"'(\w+)'", str(check.sqltext))) == {str(s) for s in getattr(states, enum)}
