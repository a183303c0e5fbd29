"""The state-changing operations of the commissions app, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.commissions.models import Commission, CommissionMember
from ebourgogne.testing.authorisation import Operation, World


def _commission(world: World) -> Commission:
    """A commission of the world's buyer with one member seated, made once per world."""
    if "commissions.commission" not in world.extra:
        with scopes_disabled():
            commission = Commission.objects.create(organisation=world.buyer, name="Commission d'appel d'offres")
            world.extra["commissions.member"] = CommissionMember.objects.create(
                commission=commission, user=world.buyer_agent
            )
        world.extra["commissions.commission"] = commission
    return world.extra["commissions.commission"]


def _commissions(world: World):
    return sorted(
        Commission.objects.filter(organisation=world.buyer).values_list(
            "name", "opening_threshold", "is_default", "keep_identity_after_opening"
        )
    )


def _members(world: World):
    return sorted(
        CommissionMember.objects.filter(commission=_commission(world)).values_list("user_id", "voice", "seat")
    )


OPERATIONS = [
    Operation(
        name="commissions.create",
        target="commissions:create",
        method="POST",
        permission="commissions.manage",
        url=lambda w: reverse("commissions:create", args=[w.buyer.slug]),
        data=lambda w: {"name": "Commission MAPA", "kind": "mapa", "opening_threshold": "2"},
        snapshot=_commissions,
    ),
    Operation(
        name="commissions.edit",
        target="commissions:edit",
        method="POST",
        permission="commissions.manage",
        url=lambda w: reverse("commissions:edit", args=[w.buyer.slug, _commission(w).pk]),
        data=lambda w: {"name": "CAO", "kind": "cao", "opening_threshold": "3", "is_default": "on"},
        snapshot=lambda w: (_commission(w), _commissions(w))[1],
    ),
    Operation(
        name="commissions.member_add",
        target="commissions:member_add",
        method="POST",
        permission="commissions.manage",
        url=lambda w: reverse("commissions:member_add", args=[w.buyer.slug, _commission(w).pk]),
        data=lambda w: {"user": str(w.commission_member.pk), "voice": "deliberative", "seat": "titular"},
        snapshot=_members,
    ),
    Operation(
        name="commissions.member_remove",
        target="commissions:member_remove",
        method="POST",
        permission="commissions.manage",
        url=lambda w: reverse(
            "commissions:member_remove", args=[w.buyer.slug, _commission(w).pk, w.extra["commissions.member"].pk]
        ),
        snapshot=_members,
    ),
]
