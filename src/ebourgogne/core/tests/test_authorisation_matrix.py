"""The authorisation matrix: every state-changing operation, run by every kind of caller.

Operations come from each app's `tests/authorisation.py` (OPERATIONS). For each one and each caller:

- anonymous: sent to the login page (HTML) or 401 (API);
- outsider (a member of another organisation): 404, the organisation's existence is not revealed;
- member without the role: 403;
- member with the role: success;
- platform operator: success when the operator role grants the permission, else refused;

and whenever access is denied, the operation's snapshot of the database is unchanged. An allowed call
must change it (unless the operation says it is a guarded read), which proves the registry's data is
valid and the success is real.

A meta-test makes sure later apps cannot forget: every URL or API operation guarded by an
organisation-scoped permission that does not end in ".view" must appear in some registry.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.core.access import policy_of
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.authorisation import (
    AUTHENTICATED,
    OPERATOR,
    ORGANISATION,
    Operation,
    World,
    api_operations,
    build_world,
    registered_operations,
    url_patterns,
)
from ebourgogne.testing.factories import UserFactory, make_member, make_operator, sign_in

OPERATIONS = registered_operations()
ACTORS = ("anonymous", "outsider", "member_without_role", "member_with_role", "operator")
SUCCESS = {200, 201, 204, 302}


def _actor(operation: Operation, actor: str, world: World) -> Any:
    """The user playing `actor` for `operation` (None for anonymous); skips combinations that do not apply."""
    organisation = operation.organisation(world)
    if actor == "anonymous":
        return None
    if actor == "outsider":
        return make_member(world.other_buyer, Role.BUYER_ADMIN)
    if actor == "operator":
        return make_operator()
    roles = (
        operation.roles_without_permission(organisation)
        if actor == "member_without_role"
        else operation.roles_with_permission(organisation)
    )
    if not roles:
        pytest.skip(f"every role of a {organisation.kind} holds {operation.permission}")
    return make_member(organisation, roles[0], UserFactory())


def _send(client, operation: Operation, world: World):
    url, data = operation.url(world), operation.data(world)
    if operation.api:
        body = json.dumps(data) if operation.method != "GET" else None
        return client.generic(operation.method, url, body or "", content_type="application/json")
    if operation.method == "GET":
        return client.get(url, data)
    if operation.method == "POST":
        return client.post(url, data)
    return client.generic(operation.method, url, json.dumps(data), content_type="application/json")


def _snapshot(operation: Operation, world: World) -> Any:
    with scopes_disabled():
        return operation.snapshot(world)


def _expected(operation: Operation, actor: str) -> str | int:
    """ "allowed", "login" or the status of the refusal."""
    if actor == "anonymous":
        return 401 if operation.api else "login"
    if actor == "operator":
        return "allowed" if operation.operator_succeeds() else operation.operator_denied_status
    if operation.policy == AUTHENTICATED:
        return "allowed"
    if operation.policy == OPERATOR:
        return 404
    if actor == "outsider":
        return 404
    if actor == "member_without_role":
        return 403
    return "allowed"


def _cases() -> list:
    """(operation, actor) pairs; organisation roles play no part in operator-only or any-account operations."""
    cases = []
    for operation in OPERATIONS:
        for actor in ACTORS:
            if operation.policy != ORGANISATION and actor.startswith("member_"):
                continue
            cases.append(pytest.param(operation, actor, id=f"{operation.name}-{actor}"))
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize(("operation", "actor"), _cases())
def test_authorisation_matrix(client, django_capture_on_commit_callbacks, operation: Operation, actor: str):
    world = build_world()
    user = _actor(operation, actor, world)
    if user is not None:
        sign_in(client, user)
    before = _snapshot(operation, world)

    # Run what a real commit would (mail and tasks are enqueued on commit), so effects are visible.
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, operation, world)

    after = _snapshot(operation, world)
    expected = _expected(operation, actor)
    where = f"{operation.name} as {actor}: {response.status_code} {response.get('Location', '')}"
    if expected == "allowed":
        assert response.status_code in SUCCESS, where
        if response.status_code == 302:
            assert not response["Location"].startswith(reverse("account_login")), where
        if operation.changes:
            assert after != before, f"{where}: allowed, yet nothing changed"
        return
    if expected == "login":
        assert response.status_code == 302, where
        assert response["Location"].startswith(reverse("account_login")), where
    else:
        assert response.status_code == expected, where
    assert after == before, f"{where}: refused, yet the database changed"


def _guarded_targets() -> dict[str, str]:
    """URL names and API operations guarded by an organisation permission that is not a mere read."""
    targets: dict[str, str] = {}
    for route in url_patterns():
        policy = policy_of(route.callback)
        if policy and policy.kind == "organisation" and not (policy.permission or "").endswith(".view"):
            targets[route.name or route.route] = policy.permission or ""
    for operation in api_operations():
        policy = policy_of(operation.view_func)
        if policy and policy.kind == "organisation" and not (policy.permission or "").endswith(".view"):
            targets[operation.target] = policy.permission or ""
    return targets


def test_every_guarded_operation_is_in_the_matrix():
    registered = {operation.target for operation in OPERATIONS}
    missing = sorted(
        f"{target} ({permission})" for target, permission in _guarded_targets().items() if target not in registered
    )
    assert not missing, (
        "Operations guarded by an organisation permission but absent from every tests/authorisation.py "
        "OPERATIONS list (add them so the authorisation matrix runs them):\n" + "\n".join(missing)
    )


def test_registered_operations_name_real_targets_and_permissions():
    known = {route.name for route in url_patterns() if route.name} | {op.target for op in api_operations()}
    for operation in OPERATIONS:
        assert operation.target in known, f"{operation.name}: unknown target {operation.target}"
        if operation.policy == ORGANISATION:
            assert operation.permission, f"{operation.name}: organisation operations name their permission"


def test_the_meta_test_sees_the_guarded_organisation_pages():
    targets = _guarded_targets()
    assert targets["organisations:member_remove"] == "org.members.manage"
    assert targets["api POST /api/v1/organisations/{org_slug}/invitations"] == "org.members.manage"
    assert "organisations:detail" not in targets  # org.view: a read
