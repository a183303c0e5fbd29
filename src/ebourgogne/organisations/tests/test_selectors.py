"""`members_with`: the people an organisation's mails go to (questions to answer, subcontractors to
accept, vault documents about to expire)."""

from __future__ import annotations

import pytest

from ebourgogne.organisations.roles import Role
from ebourgogne.organisations.selectors import members_with
from ebourgogne.testing.factories import BuyerFactory, UserFactory, make_member

pytestmark = pytest.mark.django_db


def _emails(people) -> list[str]:
    return [person.email for person in people]


def test_the_active_members_whose_role_grants_the_permission_once_each(buyer, company):
    admin = make_member(buyer, Role.BUYER_ADMIN, UserFactory(email="alice@beaune.test"))
    make_member(buyer, Role.BUYER_AGENT, admin)  # two roles granting it: listed once
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(email="jordan@beaune.test"))
    make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(email="chantal@beaune.test"))  # role without it
    make_member(buyer, Role.BUYER_AGENT, UserFactory(email="parti@beaune.test", is_active=False))
    make_member(BuyerFactory(), Role.BUYER_ADMIN, UserFactory(email="autre@dijon.test"))  # other buyer
    make_member(company, Role.COMPANY_ADMIN, UserFactory(email="emma@menuiserie.test"))

    people = members_with(organisation=buyer, permission="contracts.manage")

    assert [person.pk for person in people] == sorted([admin.pk, agent.pk])
    assert _emails(members_with(organisation=buyer, permission="contracts.sign")) == ["alice@beaune.test"]
    assert _emails(members_with(organisation=company, permission="vault.view")) == ["emma@menuiserie.test"]
    assert members_with(organisation=company, permission="contracts.manage") == []


def test_nobody_for_an_unknown_permission_or_an_inactive_organisation(buyer):
    make_member(buyer, Role.BUYER_ADMIN, UserFactory(email="alice@beaune.test"))
    assert members_with(organisation=buyer, permission="contracts.nonexistent") == []
    buyer.is_active = False
    buyer.save(update_fields=["is_active"])
    assert members_with(organisation=buyer, permission="contracts.manage") == []
