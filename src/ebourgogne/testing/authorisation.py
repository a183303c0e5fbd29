"""The authorisation matrix's vocabulary, shared by every app's `tests/authorisation.py`.

An app lists its state-changing operations in `ebourgogne.<app>.tests.authorisation.OPERATIONS`, each an
`Operation`: how to build the request from a fresh `World` (a few organisations with people in every
role), which permission it needs, and a `snapshot` of the database state it would change.
`core/tests/test_authorisation_matrix.py` runs each one as every kind of caller and checks both the
answer and that nothing changed when access was denied.

The walkers `url_patterns()` and `api_operations()` list every HTML view and API operation; the coverage
test and the matrix's meta-test use them.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

from ebourgogne.organisations.models import BuyerService, Invitation, Organisation
from ebourgogne.organisations.roles import ROLES_BY_KIND, Role, roles_grant
from ebourgogne.testing.factories import (
    BuyerFactory,
    BuyerServiceFactory,
    CompanyFactory,
    make_invitation,
    make_member,
    make_operator,
)

# --- The world every operation runs in ---------------------------------------------------------------


@dataclass
class World:
    """Organisations with people in each role, freshly made for each run of an operation.

    The actors of the matrix (the outsider, the member without the role...) are added on top of it by
    the matrix itself; the people here are the *targets* of operations (the agent to remove...)."""

    buyer: Organisation
    company: Organisation
    other_buyer: Organisation
    buyer_admin: Any
    buyer_agent: Any
    commission_member: Any
    company_admin: Any
    company_member: Any
    operator: Any
    service: BuyerService
    sub_service: BuyerService
    buyer_invitation: Invitation
    buyer_invitation_token: str
    company_invitation: Invitation
    extra: dict[str, Any] = field(default_factory=dict)


def build_world() -> World:
    buyer = BuyerFactory(name="Commune de Beaune", city="Beaune", postal_code="21200", insee_code="21054")
    company = CompanyFactory(name="Menuiserie du Morvan")
    other_buyer = BuyerFactory(
        name="Commune d'Auxerre", city="Auxerre", postal_code="89000", insee_code="89024", department="89"
    )
    buyer_admin = make_member(buyer, Role.BUYER_ADMIN)
    service = BuyerServiceFactory(organisation=buyer, name="Direction de la commande publique")
    invitation, token = make_invitation(buyer, "invitee@exemple.test", Role.BUYER_AGENT, invited_by=buyer_admin)
    company_admin = make_member(company, Role.COMPANY_ADMIN)
    company_invitation, _token = make_invitation(
        company, "recrue@exemple.test", Role.COMPANY_MEMBER, invited_by=company_admin
    )
    return World(
        buyer=buyer,
        company=company,
        other_buyer=other_buyer,
        buyer_admin=buyer_admin,
        buyer_agent=make_member(buyer, Role.BUYER_AGENT),
        commission_member=make_member(buyer, Role.COMMISSION_MEMBER),
        company_admin=company_admin,
        company_member=make_member(company, Role.COMPANY_MEMBER),
        operator=make_operator(),
        service=service,
        sub_service=BuyerServiceFactory(organisation=buyer, parent=service, name="Bureau des marchés"),
        buyer_invitation=invitation,
        buyer_invitation_token=token,
        company_invitation=company_invitation,
    )


# --- Operations --------------------------------------------------------------------------------------

ORGANISATION = "organisation"  # organisation_view / organisation_api with `permission`
OPERATOR = "operator"  # operator_only
AUTHENTICATED = "authenticated"  # any signed-in person


@dataclass(frozen=True)
class Operation:
    """One state-changing operation, as the matrix runs it.

    name: unique, readable ("organisations.member_remove").
    target: the URL name of the HTML view ("organisations:member_remove") or, for the API,
        "api METHOD /api/v1/path/{param}" as `api_operations()` spells it; the meta-test matches on it.
    method: "POST", "PUT", "PATCH" or "DELETE" (or "GET" for a read guarded by a management permission).
    url: builds the request path from the world.
    permission: the permission it needs (organisation-scoped operations).
    organisation: the organisation acted on (default: the world's buyer).
    data: the form fields (HTML) or JSON body (API), built from the world.
    snapshot: the database state the operation would change, as comparable plain data.
    api: True for JSON API operations (anonymous callers get 401 instead of a redirect to login).
    policy: ORGANISATION, OPERATOR or AUTHENTICATED.
    changes: False when an allowed call legitimately changes nothing (a guarded read).
    operator_allowed: whether a platform operator succeeds; None means "when their role grants the
        permission" (operators hold `platform_operator` in every organisation).
    operator_denied_status: the status an operator gets when not allowed (403; 404 where operators
        are not members, e.g. leaving).
    member_roles: the roles used for "member with the role" (default: found from the permission).
    """

    name: str
    target: str
    method: str
    url: Callable[[World], str]
    snapshot: Callable[[World], Any]
    permission: str | None = None
    organisation: Callable[[World], Organisation] = lambda world: world.buyer
    data: Callable[[World], dict[str, Any]] = lambda world: {}
    api: bool = False
    policy: str = ORGANISATION
    changes: bool = True
    operator_allowed: bool | None = None
    operator_denied_status: int = 403
    member_roles: tuple[str, ...] | None = None

    def roles_with_permission(self, organisation: Organisation) -> list[str]:
        if self.member_roles is not None:
            return list(self.member_roles)
        return [role for role in ROLES_BY_KIND[organisation.kind] if roles_grant({role}, self.permission or "")]

    def roles_without_permission(self, organisation: Organisation) -> list[str]:
        return [role for role in ROLES_BY_KIND[organisation.kind] if not roles_grant({role}, self.permission or "")]

    def operator_succeeds(self) -> bool:
        if self.operator_allowed is not None:
            return self.operator_allowed
        if self.policy == OPERATOR:
            return True
        if self.policy == AUTHENTICATED:
            return True
        return roles_grant({Role.PLATFORM_OPERATOR}, self.permission or "")


def operation_from_mapping(entry: Mapping[str, Any]) -> Operation:
    """An operation written as a plain dict: `name` (also the target unless `target` is given), `method`,
    `policy`, `permission`, `setup()` -> context, `url(context)`, `data` (dict or `data(context)`),
    `snapshot(context)`, `api`, `changes`. The context is made once per world, on first use."""
    name = entry["name"]
    setup = entry.get("setup") or dict

    def context(world: World) -> Any:
        if name not in world.extra:
            world.extra[name] = setup()
        return world.extra[name]

    data = entry.get("data") or {}
    return Operation(
        name=name,
        target=entry.get("target", name),
        method=entry["method"].upper(),
        url=lambda world: entry["url"](context(world)),
        data=lambda world: data(context(world)) if callable(data) else dict(data),
        snapshot=lambda world: entry["snapshot"](context(world)),
        permission=entry.get("permission"),
        policy=entry.get("policy", ORGANISATION),
        api=entry.get("api", False),
        changes=entry.get("changes", True),
    )


def registered_operations() -> list[Operation]:
    """Every app's OPERATIONS (from `ebourgogne.<app>.tests.authorisation`, and from any other
    `tests/authorisation_*.py` module of the app, so that several parts of one app keep their own lists),
    checked for unique names. Entries are `Operation`s or plain dicts (see `operation_from_mapping`)."""
    import ebourgogne

    operations: list[Operation] = []
    for module in pkgutil.iter_modules(ebourgogne.__path__):
        if not module.ispkg:
            continue
        try:
            tests = importlib.import_module(f"ebourgogne.{module.name}.tests")
        except ModuleNotFoundError as missing:
            if missing.name and missing.name.startswith(f"ebourgogne.{module.name}.tests"):
                continue
            raise
        names = sorted(
            found.name
            for found in pkgutil.iter_modules(tests.__path__)
            if found.name == "authorisation" or found.name.startswith("authorisation_")
        )
        for name in names:
            registry = importlib.import_module(f"ebourgogne.{module.name}.tests.{name}")
            operations.extend(
                entry if isinstance(entry, Operation) else operation_from_mapping(entry)
                for entry in registry.OPERATIONS
            )
    names = [operation.name for operation in operations]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    assert not duplicates, f"operation names must be unique: {duplicates}"
    return operations


# --- Walkers -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # the whole pattern, e.g. "organisations/<slug:org_slug>/membres/"
    name: str  # "namespace:name", or "" when the pattern has no name
    callback: Callable
    namespaces: tuple[str, ...] = ()

    @property
    def module(self) -> str:
        view = self.callback
        while isinstance(view, functools.partial):
            view = view.func
        view_class = getattr(view, "view_class", None)
        return getattr(view_class or view, "__module__", "") or ""


def url_patterns(urlconf: Any = None) -> Iterator[Route]:
    """Every URL pattern of `urlconf` (default: ROOT_URLCONF), following includes."""

    def walk(patterns, prefix: str, namespaces: list[str]) -> Iterator[Route]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                namespace = [*namespaces, pattern.namespace] if pattern.namespace else namespaces
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), namespace)
            elif isinstance(pattern, URLPattern):
                name = ":".join([*namespaces, pattern.name]) if pattern.name else ""
                yield Route(prefix + str(pattern.pattern), name, pattern.callback, tuple(namespaces))

    yield from walk(get_resolver(urlconf).url_patterns, "", [])


@dataclass(frozen=True)
class ApiOperation:
    method: str
    path: str  # "/api/v1/organisations/{org_slug}/invitations"
    view_func: Callable

    @property
    def target(self) -> str:
        return f"api {self.method} {self.path}"


def api_operations(api: Any = None, base: str = "/api/v1") -> Iterator[ApiOperation]:
    """Every operation of the django-ninja API (default: `ebourgogne.api.api`) with its view function."""
    if api is None:
        from ebourgogne.api import api as default_api

        api = default_api
    bound = getattr(api, "_get_bound_routers", None)
    routers = (
        [(router.prefix, router.path_operations) for router in bound()]
        if bound
        else [(prefix, router.path_operations) for prefix, router in api._routers]
    )
    for prefix, path_operations in routers:
        for path, path_view in path_operations.items():
            full = "/" + "/".join(part.strip("/") for part in (base, prefix, path) if part.strip("/"))
            for operation in path_view.operations:
                for method in operation.methods:
                    yield ApiOperation(method.upper(), full, operation.view_func)
