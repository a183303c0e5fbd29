"""Every URL and every API operation carries an access policy, or belongs to a library we trust.

Deny by default starts here: a view added without `public(...)`, `authenticated`, `operator_only` or
`organisation_view(...)` (or an API operation without its twin) makes this test fail, naming it.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import include, path
from ninja import NinjaAPI, Router

from ebourgogne.core.access import THIRD_PARTY_POLICIES, authenticated, organisation_view, policy_of, public
from ebourgogne.testing.authorisation import Route, api_operations, url_patterns


def _third_party(module: str) -> str | None:
    for prefix in THIRD_PARTY_POLICIES:
        if module.startswith(prefix):
            return prefix
    return None


def _covered(route: Route) -> bool:
    if policy_of(route.callback) is not None or _third_party(route.module):
        return True
    # Django's own helper views mounted inside the admin site (RedirectView to a change page...)
    # are the admin's: staff only, like the rest of it.
    return bool(route.namespaces[:1] == ("admin",) and route.module.startswith("django."))


def uncovered_views(urlconf=None) -> list[str]:
    return [
        f"{route.route} ({route.name or 'unnamed'}: {route.module}.{getattr(route.callback, '__qualname__', type(route.callback).__name__)})"
        for route in url_patterns(urlconf)
        if not _covered(route)
    ]


def uncovered_api_operations(api=None, base="/api/v1") -> list[str]:
    return [
        f"{operation.target} ({operation.view_func.__module__}.{operation.view_func.__qualname__})"
        for operation in api_operations(api, base)
        if policy_of(operation.view_func) is None
    ]


def test_every_url_has_an_access_policy():
    missing = uncovered_views()
    assert not missing, "Views without an access policy (see ebourgogne.core.access):\n" + "\n".join(missing)


def test_every_api_operation_has_an_access_policy():
    operations = list(api_operations())
    assert operations, "the walker found no API operation"
    missing = uncovered_api_operations()
    assert not missing, "API operations without an access policy (see ebourgogne.core.access):\n" + "\n".join(missing)


def test_the_walkers_see_the_platforms_own_pages_and_operations():
    names = {route.name for route in url_patterns()}
    assert {"organisations:detail", "organisations:members", "organisations:invitation_accept", "portal:home"} <= names
    targets = {operation.target for operation in api_operations()}
    assert "api POST /api/v1/organisations/{org_slug}/invitations" in targets


# --- The walker catches a forgotten policy -----------------------------------------------------------


def forgotten_view(request):
    return HttpResponse("tenant data, for anyone")


@public(reason="test page")
def open_view(request):
    return HttpResponse("ok")


@organisation_view("org.view")
def guarded_view(request, organisation):
    return HttpResponse("ok")


nested = [path("oublie/", forgotten_view, name="forgotten"), path("garde/<slug:org_slug>/", guarded_view)]
urlpatterns = [
    path("ouvert/", open_view),
    path("imbrique/", include((nested, "nested"))),
]


def test_the_url_walker_reports_an_undecorated_view_even_inside_an_include():
    missing = uncovered_views(__name__)
    assert len(missing) == 1
    assert "imbrique/oublie/" in missing[0] and "nested:forgotten" in missing[0] and "forgotten_view" in missing[0]


def test_the_api_walker_reports_an_undecorated_operation():
    router = Router()

    @router.get("/ouvert")
    @public(reason="test operation")
    def open_operation(request):
        return {}

    @router.post("/{org_slug}/oublie")
    def forgotten_operation(request, org_slug: str):
        return {}

    @router.get("/moi")
    @authenticated
    def signed_in_operation(request):
        return {}

    api = NinjaAPI(urls_namespace="coverage-test")
    api.add_router("/essai", router)
    missing = uncovered_api_operations(api, "/api/essai")
    assert len(missing) == 1
    assert missing[0].startswith("api POST /api/essai/essai/{org_slug}/oublie") and "forgotten_operation" in missing[0]
