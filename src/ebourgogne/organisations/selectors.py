"""Reads of organisations and memberships. Cross-tenant lookups (which organisations am I in?) are
explicit here and nowhere else."""

from __future__ import annotations

from typing import Any

from django_scopes import scopes_disabled

from ebourgogne.organisations.models import Membership, Organisation
from ebourgogne.organisations.roles import Role


def user_is_operator(user: Any) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_ebourgogne_is_operator", None)
    if cached is None:
        with scopes_disabled():
            cached = Membership.objects.filter(
                user=user, role=Role.PLATFORM_OPERATOR, organisation__is_active=True
            ).exists()
        user._ebourgogne_is_operator = cached
    return cached


def roles_of(*, user: Any, organisation: Organisation) -> set[str]:
    """The roles `user` holds in `organisation`. Platform operators act with their operator role everywhere."""
    if not getattr(user, "is_authenticated", False):
        return set()
    with scopes_disabled():
        roles = set(Membership.objects.filter(user=user, organisation=organisation).values_list("role", flat=True))
    if user_is_operator(user):
        roles.add(Role.PLATFORM_OPERATOR)
    return roles


def organisation_with_roles(*, user: Any, slug: str) -> tuple[Organisation, set[str]] | None:
    """The active organisation `slug` with the caller's roles in it, or None when the caller has none."""
    organisation = Organisation.objects.filter(slug=slug, is_active=True).first()
    if organisation is None:
        return None
    roles = roles_of(user=user, organisation=organisation)
    if not roles:
        return None
    return organisation, roles


def organisations_of(*, user: Any) -> list[tuple[Organisation, list[str]]]:
    """The caller's organisations, each with the roles held there, by name."""
    with scopes_disabled():
        rows = (
            Membership.objects.filter(user=user, organisation__is_active=True)
            .select_related("organisation")
            .order_by("organisation__name", "role")
        )
        grouped: dict[int, tuple[Organisation, list[str]]] = {}
        for membership in rows:
            grouped.setdefault(membership.organisation_id, (membership.organisation, []))[1].append(membership.role)
    return list(grouped.values())
