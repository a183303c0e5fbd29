"""The quorum rule (meetings/quorum.py) on its own: more than half of the titular deliberative seats,
present, remote or represented by a substitute sitting; consultative voices never count."""

from __future__ import annotations

import pytest

from ebourgogne.meetings.quorum import Seat, compute, needed_for


def titular(name: str, status: str, *, substitute: str | None = None, substitute_name: str = "") -> Seat:
    return Seat(
        name=name,
        voice="deliberative",
        seat="titular",
        status=status,
        substitute_status=substitute,
        substitute_name=substitute_name,
    )


def substitute(name: str, status: str) -> Seat:
    return Seat(name=name, voice="deliberative", seat="substitute", status=status)


def consultative(name: str, status: str) -> Seat:
    return Seat(name=name, voice="consultative", seat="titular", status=status)


@pytest.mark.parametrize(("members", "needed"), [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 4), (7, 4)])
def test_more_than_half_of_the_members(members, needed):
    assert needed_for(members) == needed


def test_odd_number_three_of_five_reaches_two_of_five_does_not():
    three = [titular(f"T{n}", "present" if n < 3 else "absent") for n in range(5)]
    two = [titular(f"T{n}", "present" if n < 2 else "absent") for n in range(5)]
    assert compute(three).reached is True
    assert compute(three).present == 3
    assert compute(two).reached is False
    assert compute(two).needed == 3


def test_even_number_half_is_not_enough():
    half = [titular(f"T{n}", "present" if n < 3 else "absent") for n in range(6)]
    four = [titular(f"T{n}", "present" if n < 4 else "absent") for n in range(6)]
    assert compute(half).reached is False  # 3 of 6 is not more than half
    assert compute(four).reached is True


def test_remote_members_count_as_present():
    seats = [titular("A", "remote"), titular("B", "remote"), titular("C", "absent")]
    assert compute(seats).reached is True
    assert compute(seats).counted == ("A", "B")


def test_represented_titular_counts_only_when_the_substitute_sits():
    sitting = [
        titular("A", "present"),
        titular("B", "represented", substitute="present", substitute_name="S"),
        titular("C", "absent"),
        substitute("S", "present"),
    ]
    found = compute(sitting)
    assert found.members == 3  # the substitute is not a member of their own
    assert found.present == 2
    assert found.counted == ("A", "S (B)")
    gone = [
        titular("A", "present"),
        titular("B", "represented", substitute="left", substitute_name="S"),
        titular("C", "absent"),
        substitute("S", "left"),
    ]
    assert compute(gone).reached is False


def test_a_substitute_present_while_the_titular_sits_does_not_count():
    seats = [titular("A", "present"), titular("B", "absent"), titular("C", "absent"), substitute("S", "present")]
    assert compute(seats).present == 1
    assert compute(seats).reached is False


def test_a_member_who_left_no_longer_counts():
    before = [titular("A", "present"), titular("B", "present"), titular("C", "absent")]
    after = [titular("A", "present"), titular("B", "left"), titular("C", "absent")]
    assert compute(before).reached is True
    assert compute(after).reached is False
    assert compute(after).counted == ("A",)


def test_consultative_voices_never_count():
    seats = [
        titular("A", "present"),
        titular("B", "absent"),
        titular("C", "absent"),
        consultative("Comptable public", "present"),
        consultative("DGCCRF", "present"),
    ]
    found = compute(seats)
    assert found.members == 3
    assert found.present == 1
    assert found.reached is False


def test_no_deliberative_member_means_no_quorum():
    assert compute([consultative("X", "present")]).reached is False
    assert compute([]).reached is False


def test_a_meeting_convened_again_deliberates_whatever_the_number():
    seats = [titular("A", "present"), titular("B", "absent"), titular("C", "absent"), titular("D", "absent")]
    found = compute(seats, required=False)
    assert found.reached is False  # the count is still told as it is
    assert found.can_deliberate is True
    assert compute(seats).can_deliberate is False
