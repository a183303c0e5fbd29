"""The one authorisation layer. Every view and API operation that exists declares its policy here.

- `public`: anyone, signed in or not (the portal, downloads of public files, health probes...).
- `authenticated`: any signed-in person, acting on their own data only (their account).
- `operator_only`: platform operators.
- `organisation_view(permission)` / `organisation_api(permission)`: a member of the organisation named by
  the `org_slug` URL argument, holding a role that grants `permission` (see `organisations.roles`).
  The organisation is resolved once here; the view receives `organisation` and runs inside a
  django-scopes scope, so a query on tenant data that forgets its organisation raises instead of leaking.

Deny by default: an organisation you are not a member of answers 404 (its existence is not revealed);
a member without the right role gets 403 with a clear message. A test walks every URL pattern and API
operation and fails if one carries no policy (ebourgogne/core/tests/test_access_coverage.py).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from django_scopes import scope

ACCESS_ATTR = "ebourgogne_access_policy"


@dataclass(frozen=True)
class Policy:
    kind: str  # "public" | "authenticated" | "operator" | "organisation"
    permission: str | None = None
    reason: str = ""


def _mark(view: Callable, policy: Policy) -> Callable:
    setattr(view, ACCESS_ATTR, policy)
    return view


def policy_of(view: Callable) -> Policy | None:
    """The policy declared on a view, looking through decorators and class-based views."""
    seen = set()
    current: Any = view
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = getattr(current, ACCESS_ATTR, None)
        if found is not None:
            return found
        view_class = getattr(current, "view_class", None)
        if view_class is not None and getattr(view_class, ACCESS_ATTR, None) is not None:
            return getattr(view_class, ACCESS_ATTR)
        current = getattr(current, "__wrapped__", None)
    return None


def public(view: Callable | None = None, *, reason: str = "") -> Callable:
    """Declare a view open to everyone."""

    def decorate(func: Callable) -> Callable:
        return _mark(func, Policy("public", reason=reason))

    return decorate(view) if view is not None else decorate


def authenticated(view: Callable) -> Callable:
    """A signed-in person, on their own data. Anonymous visitors are sent to the login page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return _mark(wrapper, Policy("authenticated"))


def is_operator(user: Any) -> bool:
    from ebourgogne.organisations.selectors import user_is_operator

    return bool(user.is_authenticated and user_is_operator(user))


def operator_only(view: Callable) -> Callable:
    """Platform operators only; to anyone else the page does not exist."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_operator(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return _mark(wrapper, Policy("operator"))


def resolve_organisation(request: HttpRequest, org_slug: str, permission: str):
    """The organisation the caller may act on with `permission`, or Http404 / PermissionDenied."""
    from ebourgogne.organisations.roles import roles_grant
    from ebourgogne.organisations.selectors import organisation_with_roles

    found = organisation_with_roles(user=request.user, slug=org_slug)
    if found is None:
        raise Http404
    organisation, roles = found
    if not roles_grant(roles, permission):
        raise PermissionDenied(_("Votre rôle dans cette organisation ne permet pas cette action."))
    request.organisation = organisation  # type: ignore[attr-defined]
    request.organisation_roles = roles  # type: ignore[attr-defined]
    return organisation


def organisation_view(permission: str) -> Callable[[Callable], Callable]:
    """A view on one organisation's data, for its members holding `permission`.

    The URL carries `<slug:org_slug>`; the view is called with `organisation=` instead.
    """

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, org_slug: str, **kwargs: Any):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            organisation = resolve_organisation(request, org_slug, permission)
            with scope(organisation=organisation):
                return view(request, *args, organisation=organisation, **kwargs)

        return _mark(wrapper, Policy("organisation", permission=permission))

    return decorate


def organisation_api(permission: str) -> Callable[[Callable], Callable]:
    """The API twin of `organisation_view`: 401 anonymous, 404 outsider, 403 member without the role."""
    from ninja.errors import HttpError

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, org_slug: str, **kwargs: Any):
            if not request.user.is_authenticated:
                raise HttpError(401, _("Authentification requise."))
            try:
                organisation = resolve_organisation(request, org_slug, permission)
            except Http404:
                raise HttpError(404, _("Organisation introuvable.")) from None
            except PermissionDenied as denied:
                raise HttpError(403, str(denied)) from None
            with scope(organisation=organisation):
                return view(request, *args, organisation=organisation, **kwargs)

        # django-ninja reads the signature to parse the request: show it `org_slug` (from the path)
        # where the view itself receives the resolved `organisation`.
        signature = inspect.signature(view, eval_str=True)
        parameters = list(signature.parameters.values())
        slug = inspect.Parameter("org_slug", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=str)
        parameters = [parameters[0], slug, *(p for p in parameters[1:] if p.name != "organisation")]
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        return _mark(wrapper, Policy("organisation", permission=permission))

    return decorate


# Views that belong to libraries we use, with the reason each is safe. Matched on the view's module.
THIRD_PARTY_POLICIES: dict[str, str] = {
    "allauth.": "django-allauth: sign-up, login, MFA, password reset; it enforces its own authentication rules",
    "django.contrib.admin.": "Django admin: staff only (is_staff, granted to platform operators)",
    "django.views.i18n": "language switch: public, changes only the visitor's own language cookie",
    "django.views.static": "static files in development",
    "ninja.": "API documentation and OpenAPI schema: public, describes the API without data",
}
