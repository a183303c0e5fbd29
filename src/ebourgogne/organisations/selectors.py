"""Reads of organisations and memberships. Cross-tenant lookups (which organisations am I in?) are
explicit here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.core.paginator import Page, Paginator
from django.db import DEFAULT_DB_ALIAS
from django.db.models import Count, Q
from django_scopes import scopes_disabled

from ebourgogne.core.clock import now
from ebourgogne.core.prepared import PreparedQuery
from ebourgogne.organisations.models import BuyerService, Invitation, Membership, Organisation
from ebourgogne.organisations.roles import PERMISSIONS, OrganisationKind, Role


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


def memberships_of_user_id_rows(user_id: int):
    """The rows behind `organisations_of_user_id()`: every field of the organisation, then the role (a
    queryset ending in values_list(), for `core.prepared`; read them with `group_organisation_rows()`)."""
    with scopes_disabled():
        return (
            Membership.objects.filter(user_id=user_id, organisation__is_active=True)
            .order_by("organisation__name", "organisation_id", "role")
            .values_list(*(f"organisation__{field.attname}" for field in Organisation._meta.concrete_fields), "role")
        )


def group_organisation_rows(rows) -> list[tuple[Organisation, list[str]]]:
    """(organisation, [roles]) from rows of `memberships_of_user_id_rows()` (extra columns after the role are
    ignored)."""
    attnames = [field.attname for field in Organisation._meta.concrete_fields]
    width = len(attnames)
    grouped: dict[int, tuple[Organisation, list[str]]] = {}
    for row in rows:
        found = grouped.get(row[0])
        if found is None:
            found = grouped[row[0]] = (Organisation.from_db(DEFAULT_DB_ALIAS, attnames, row[:width]), [])
        found[1].append(row[width])
    return list(grouped.values())


_memberships_of_user_id = PreparedQuery(memberships_of_user_id_rows)


def organisations_of_user_id(user_id: int) -> list[tuple[Organisation, list[str]]]:
    """`organisations_of()` for a user id, as run on every page of a signed-in person: the same result (the
    caller's active organisations with their roles there, by name), from SQL compiled once
    (`core.prepared`) instead of building the query on each call."""
    return group_organisation_rows(_memberships_of_user_id.rows(user_id))


# --- Reads on one organisation (run inside its scope: the view or API decorator opens it) -----------


@dataclass(frozen=True)
class Member:
    user: Any
    roles: list[str]
    memberships: list[Membership]


def _group(rows) -> list[Member]:
    grouped: dict[int, Member] = {}
    for membership in rows:
        found = grouped.setdefault(membership.user_id, Member(user=membership.user, roles=[], memberships=[]))
        found.roles.append(membership.role)
        found.memberships.append(membership)
    return list(grouped.values())


def members_of(*, organisation: Organisation) -> list[Member]:
    """The people of `organisation` with their roles, by name then e-mail."""
    return _group(
        Membership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__full_name", "user__email", "role")
    )


def member(*, organisation: Organisation, user_id: int) -> Member | None:
    """One member of `organisation`, or None (also for people of other organisations)."""
    found = _group(
        Membership.objects.filter(organisation=organisation, user_id=user_id).select_related("user").order_by("role")
    )
    return found[0] if found else None


def members_with(*, organisation: Organisation, permission: str) -> list[Any]:
    """The active people of `organisation` whose role there grants `permission`, once each, by id: those
    to tell of something waiting for them. Nobody for an inactive organisation (its roles grant nothing)
    or an unknown permission. Callable outside the organisation's scope (mails sent by services and tasks)."""
    roles = PERMISSIONS.get(permission, frozenset())
    if not roles or not organisation.is_active:
        return []
    with scopes_disabled():
        rows = (
            Membership.objects.filter(organisation=organisation, role__in=roles, user__is_active=True)
            .select_related("user")
            .order_by("user_id")
        )
        return list({row.user_id: row.user for row in rows}.values())


def admin_count(*, organisation: Organisation, admin_role: str) -> int:
    return Membership.objects.filter(organisation=organisation, role=admin_role).count()


def open_invitations(*, organisation: Organisation) -> list[Invitation]:
    """Invitations not yet accepted nor revoked (pending or expired), newest first."""
    return list(
        Invitation.objects.filter(organisation=organisation, accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def pending_invitations(*, organisation: Organisation) -> list[Invitation]:
    """Invitations that can still be accepted."""
    return [invitation for invitation in open_invitations(organisation=organisation) if invitation.expires_at > now()]


def invitation_of(*, organisation: Organisation, pk: int) -> Invitation | None:
    return Invitation.objects.filter(organisation=organisation, pk=pk).select_related("organisation").first()


def invitation_by_token_hash(digest: str) -> Invitation | None:
    """The invitation behind a secret link (any organisation: the token is the credential)."""
    with scopes_disabled():
        return Invitation.objects.filter(token_hash=digest).select_related("organisation").first()


@dataclass(frozen=True)
class ServiceNode:
    service: BuyerService
    children: list[BuyerService]


def services_tree(*, organisation: Organisation) -> list[ServiceNode]:
    """The services of a buyer, each with its sub-services, by name."""
    services = list(BuyerService.objects.filter(organisation=organisation).order_by("name"))
    children: dict[int, list[BuyerService]] = {}
    for service in services:
        if service.parent_id is not None:
            children.setdefault(service.parent_id, []).append(service)
    return [ServiceNode(service, children.get(service.pk, [])) for service in services if service.parent_id is None]


def service_of(*, organisation: Organisation, pk: int) -> BuyerService | None:
    return BuyerService.objects.filter(organisation=organisation, pk=pk).select_related("organisation").first()


# --- Operators: every organisation ------------------------------------------------------------------


def organisations_for_operator(*, query: str = "", kind: str = "", page: int | str = 1, per_page: int = 50) -> Page:
    """All organisations, searched by name, SIREN, SIRET, commune or postal code, paginated."""
    organisations = Organisation.objects.all().order_by("name", "pk")
    if kind in OrganisationKind.values:
        organisations = organisations.filter(kind=kind)
    query = " ".join((query or "").split())
    if query:
        compact = query.replace(" ", "")
        condition = Q(name__icontains=query) | Q(city__icontains=query)
        if compact.isdigit():
            condition |= (
                Q(siren__startswith=compact) | Q(siret__startswith=compact) | Q(postal_code__startswith=compact)
            )
        organisations = organisations.filter(condition)
    return Paginator(organisations, per_page).get_page(page)


def organisation_counts() -> dict[str, int]:
    """How many active organisations of each kind."""
    counts = dict(
        Organisation.objects.filter(is_active=True)
        .values_list("kind")
        .annotate(total=Count("pk"))
        .values_list("kind", "total")
    )
    return {kind: counts.get(kind, 0) for kind in OrganisationKind.values}
