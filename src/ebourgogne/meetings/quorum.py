"""The quorum of a commission's session: a pure function over the attendance, so that the rule can be read
and tested on its own (tests/test_quorum.py).

The rule (CGCT L2121-17, applied to the CAO by L1411-5 and L1414-2; ../shared/docs/rules.md):

- Only the members with a **deliberative** voice count; the members with a consultative voice (the public
  accountant, the competition authority's representative, experts) never count, present or not.
- The number of members is the number of **titular** deliberative seats (the president included when
  seated with a deliberative voice). A substitute is not a member of their own: they count only when
  sitting for their titular (the titular's attendance is "represented", its `represented_by` the
  substitute, who is present or remote). A substitute present while their titular sits does not count.
- A titular present in the room or **remote** (by video) counts as present; one who **left** the session
  no longer counts (the quorum is recomputed, and decisions after that count without them).
- The quorum is reached when **more than half** of the members are present: 3 of 5, 4 of 6, 2 of 3,
  2 of 2. A commission without deliberative members has no quorum.
- Without quorum the commission is convened again; the new meeting (`Meeting.follows` = the one without
  quorum) deliberates **whatever the number present**: `required=False`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

DELIBERATIVE = "deliberative"
TITULAR = "titular"
SITTING = frozenset({"present", "remote"})
REPRESENTED = "represented"


@dataclass(frozen=True)
class Seat:
    """One attendance line as the rule sees it. `substitute_status` is the status of the substitute
    named in `represented_by` (None when nobody represents this member)."""

    name: str
    voice: str
    seat: str
    status: str
    substitute_status: str | None = None
    substitute_name: str = ""


@dataclass(frozen=True)
class Quorum:
    required: bool  # False for a meeting convened again after one without quorum
    members: int  # titular deliberative seats
    needed: int  # more than half of them
    present: int  # titulars present or remote, plus titulars represented by a substitute sitting
    counted: tuple[str, ...] = field(default_factory=tuple)  # who was counted (names; "X pour Y" for a substitute)

    @property
    def reached(self) -> bool:
        return self.present >= self.needed and self.members > 0

    @property
    def can_deliberate(self) -> bool:
        return self.reached or not self.required


def needed_for(members: int) -> int:
    """More than half: the smallest whole number strictly greater than members / 2."""
    return members // 2 + 1


def voters(seats: Iterable[Seat]) -> list[str]:
    """The deliberative voices sitting now: titulars present or remote, and substitutes sitting for their
    titular (named "substitute (pour titular)")."""
    found: list[str] = []
    for seat in seats:
        if seat.voice != DELIBERATIVE or seat.seat != TITULAR:
            continue
        if seat.status in SITTING:
            found.append(seat.name)
        elif seat.status == REPRESENTED and seat.substitute_status in SITTING:
            found.append(f"{seat.substitute_name} ({seat.name})" if seat.substitute_name else seat.name)
    return found


def compute(seats: Iterable[Seat], *, required: bool = True) -> Quorum:
    seats = list(seats)
    members = sum(1 for seat in seats if seat.voice == DELIBERATIVE and seat.seat == TITULAR)
    counted = voters(seats)
    return Quorum(
        required=required, members=members, needed=needed_for(members), present=len(counted), counted=tuple(counted)
    )
