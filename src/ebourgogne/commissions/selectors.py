"""Reads about a buyer's commissions, always within the buyer (the caller's organisation)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.commissions.models import Commission, CommissionMember
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.organisations.models import Membership, Organisation


@dataclass
class MemberRow:
    member: CommissionMember
    has_key: bool
    holds_shares: bool  # would receive a share if a consultation were published now


@dataclass
class CommissionView:
    commission: Commission
    rows: list[MemberRow]
    holders: int  # members (and escrow) who would receive a share now
    escrow_has_key: bool

    @property
    def short_of_keys(self) -> bool:
        return self.holders < self.commission.opening_threshold


def commissions_of(*, organisation: Organisation) -> list[Commission]:
    with scopes_disabled():  # filtered on the organisation explicitly
        return list(
            Commission.objects.filter(organisation=organisation).select_related("escrow_holder").order_by("name")
        )


def commission_of(*, organisation: Organisation, pk: int) -> Commission | None:
    with scopes_disabled():  # filtered on the organisation explicitly
        return Commission.objects.filter(organisation=organisation, pk=pk).select_related("escrow_holder").first()


def commission_view(commission: Commission, *, on: dt.date | None = None) -> CommissionView:
    """A commission with each member's key status and whether it can open bids now (k holders)."""
    from ebourgogne.sealing.selectors import users_with_keys
    from ebourgogne.sealing.services import key_holders

    members = list(
        CommissionMember.objects.filter(commission=commission)
        .select_related("user")
        .order_by("-is_president", "seat", "id")
    )
    ids = {member.user_id for member in members}
    if commission.escrow_holder_id:
        ids.add(commission.escrow_holder_id)
    with_keys = users_with_keys(ids)
    holders = key_holders(commission, on=on or clock.now().astimezone(PARIS).date())
    holder_ids = {holder.user.pk for holder in holders if not holder.is_escrow}
    rows = [MemberRow(member, member.user_id in with_keys, member.user_id in holder_ids) for member in members]
    return CommissionView(
        commission=commission,
        rows=rows,
        holders=len(holders),
        escrow_has_key=bool(commission.escrow_holder_id and commission.escrow_holder_id in with_keys),
    )


def people_of(*, organisation: Organisation) -> list[Any]:
    """The buyer's members (each person once), for choosing a commission member or the escrow holder."""
    seen: dict[int, Any] = {}
    with scopes_disabled():  # filtered on the organisation explicitly
        rows = list(
            Membership.objects.filter(organisation=organisation)
            .select_related("user")
            .order_by("user__full_name", "user__email")
        )
    for membership in rows:
        if membership.user.is_active:
            seen.setdefault(membership.user_id, membership.user)
    return list(seen.values())


def person_of(*, organisation: Organisation, user_id: Any) -> Any | None:
    try:
        pk = int(user_id)
    except (TypeError, ValueError):
        return None
    with scopes_disabled():  # filtered on the organisation explicitly
        membership = Membership.objects.filter(organisation=organisation, user_id=pk).select_related("user").first()
    return membership.user if membership else None
