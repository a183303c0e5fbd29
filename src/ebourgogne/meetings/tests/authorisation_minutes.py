"""The minutes' state-changing operations, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py reads every tests/authorisation_*.py).

The pages are guarded by `meetings.view` (members of the commission sign there); generating is then
allowed to the buyer's staff and the president only, so "member with the role" is played by a buyer
agent. Signing is not here: only the signers listed, in order, may sign, which a fresh member of the
matrix never is (tests/test_minutes.py and test_minutes_views.py cover every refusal)."""

from __future__ import annotations

from django.urls import reverse

from ebourgogne.meetings.models import Minutes, MinutesSignature
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.authorisation import Operation, World


def _closed(world: World):
    if "minutes.closed" not in world.extra:
        from ebourgogne.meetings.tests.test_minutes_helpers import closed_meeting

        world.extra["minutes.closed"] = closed_meeting(world.buyer, world.buyer_agent)
    return world.extra["minutes.closed"]


def _snapshot(world: World):
    meeting = _closed(world).meeting
    return (
        list(Minutes.objects.filter(meeting=meeting).values_list("sha256", "state")),
        list(MinutesSignature.objects.filter(minutes__meeting=meeting).values_list("user_id", "order")),
    )


OPERATIONS = [
    Operation(
        name="meetings.minutes_generate",
        target="meetings:minutes_generate",
        method="POST",
        permission="meetings.view",
        member_roles=(Role.BUYER_AGENT,),
        url=lambda w: reverse("meetings:minutes_generate", args=[w.buyer.slug, _closed(w).meeting.pk]),
        data=lambda w: {"signers": [_closed(w).president.pk]},
        snapshot=_snapshot,
    ),
]
