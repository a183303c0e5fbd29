"""Tenant isolation: one buyer never reads another's members, invitations or services, and a query on
tenant data outside an organisation's scope raises instead of leaking."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from ebourgogne.organisations import selectors
from ebourgogne.organisations.models import BuyerService, Invitation, Membership
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import BuyerServiceFactory, make_invitation, make_member, sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_buyers(buyer, buyer_admin, other_buyer, outsider):
    make_member(buyer, Role.BUYER_AGENT)
    make_invitation(buyer, "beaune@exemple.test", Role.BUYER_AGENT)
    make_invitation(other_buyer, "auxerre@exemple.test", Role.BUYER_AGENT)
    BuyerServiceFactory(organisation=buyer, name="Services techniques de Beaune")
    BuyerServiceFactory(organisation=other_buyer, name="Services techniques d'Auxerre")
    return buyer, other_buyer


def test_tenant_queries_outside_a_scope_raise():
    for model in (Membership, Invitation, BuyerService):
        with pytest.raises(ScopeError):
            list(model.objects.all())
        with pytest.raises(ScopeError):
            model.objects.filter(pk=1).exists()


def test_inside_a_scope_only_that_organisations_rows_exist(two_buyers):
    buyer, other_buyer = two_buyers
    with scope(organisation=buyer):
        assert {m.organisation_id for m in Membership.objects.all()} == {buyer.pk}
        assert [i.email for i in Invitation.objects.all()] == ["beaune@exemple.test"]
        # Even an explicit filter on the other buyer finds nothing.
        assert not BuyerService.objects.filter(organisation=other_buyer).exists()
        assert [node.service.name for node in selectors.services_tree(organisation=buyer)] == [
            "Services techniques de Beaune"
        ]
        assert all(member.user.email != "oscar@auxerre.test" for member in selectors.members_of(organisation=buyer))
        assert selectors.open_invitations(organisation=other_buyer) == []


def test_another_buyers_pages_answer_404_and_reveal_nothing(client, two_buyers, outsider):
    buyer, other_buyer = two_buyers
    sign_in(client, outsider)
    with scope(organisation=buyer):
        invitation = Invitation.objects.get()
        service = BuyerService.objects.get()
        agent = Membership.objects.get(role=Role.BUYER_AGENT).user
    for url in (
        reverse("organisations:detail", args=[buyer.slug]),
        reverse("organisations:members", args=[buyer.slug]),
        reverse("organisations:invitations", args=[buyer.slug]),
        reverse("organisations:services", args=[buyer.slug]),
        reverse("organisations:detail", args=["nexiste-pas"]),
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "Beaune" not in response.content.decode()
    # Through the outsider's own organisation, objects of the other one are not found either.
    own = other_buyer.slug
    assert client.post(reverse("organisations:invitation_revoke", args=[own, invitation.pk])).status_code == 404
    assert (
        client.post(reverse("organisations:service_rename", args=[own, service.pk]), {"name": "x"}).status_code == 404
    )
    assert client.post(reverse("organisations:member_remove", args=[own, agent.pk])).status_code == 404
    invitation.refresh_from_db()
    service.refresh_from_db()
    assert invitation.revoked_at is None and service.name == "Services techniques de Beaune"


def test_the_api_hides_other_organisations(client, two_buyers, outsider):
    buyer, other_buyer = two_buyers
    sign_in(client, outsider)
    assert client.get(f"/api/v1/organisations/{buyer.slug}/members").status_code == 404
    slugs = [organisation["slug"] for organisation in client.get("/api/v1/organisations/").json()]
    assert slugs == [other_buyer.slug]
