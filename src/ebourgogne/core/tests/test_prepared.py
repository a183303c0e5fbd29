"""PreparedQuery: the SQL is compiled once, the result is always the queryset's own."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django_scopes import scopes_disabled

from ebourgogne.core.prepared import PreparedQuery
from ebourgogne.organisations.models import Membership, Organisation
from ebourgogne.organisations.roles import Role
from ebourgogne.organisations.selectors import organisations_of, organisations_of_user_id
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, UserFactory, make_member

pytestmark = pytest.mark.django_db


def _fields(organisation: Organisation) -> dict:
    return {field.attname: getattr(organisation, field.attname) for field in Organisation._meta.concrete_fields}


def test_organisations_of_a_user_id_are_those_of_the_orm():
    person = UserFactory()
    make_member(CompanyFactory(name="Bois et Fils", is_sme=True), Role.COMPANY_ADMIN, person)
    buyer = BuyerFactory(name="Agglomération d'Auxerre")
    make_member(buyer, Role.BUYER_AGENT, person)
    make_member(buyer, Role.COMMISSION_MEMBER, person)
    closed = CompanyFactory(name="Ancienne scierie", is_active=False)
    make_member(closed, Role.COMPANY_MEMBER, person)
    make_member(CompanyFactory(name="Autre entreprise"), Role.COMPANY_ADMIN)  # someone else's

    prepared = organisations_of_user_id(person.pk)
    expected = organisations_of(user=person)

    assert [(o.name, roles) for o, roles in prepared] == [
        ("Agglomération d'Auxerre", [Role.BUYER_AGENT, Role.COMMISSION_MEMBER]),
        ("Bois et Fils", [Role.COMPANY_ADMIN]),
    ]
    assert [(_fields(o), roles) for o, roles in prepared] == [(_fields(o), roles) for o, roles in expected]
    assert all(type(o.is_sme) is bool and o.created_at.tzinfo is not None for o, _roles in prepared)
    assert organisations_of_user_id(UserFactory().pk) == []


def test_the_sql_is_compiled_once_per_thread_and_connection():
    def build(user_id):
        with scopes_disabled():
            return Membership.objects.filter(user_id=user_id).values_list("role", flat=False)

    query = PreparedQuery(build)
    person = make_member(CompanyFactory(), Role.COMPANY_ADMIN)
    assert query.rows(person.pk) == [(Role.COMPANY_ADMIN,)]
    compiled = query._local.compiled["default"]
    assert query.rows(person.pk) == [(Role.COMPANY_ADMIN,)]
    assert query._local.compiled["default"] is compiled

    seen = []
    thread = threading.Thread(
        target=lambda: (seen.append(query._local.__dict__.get("compiled")), connections.close_all())
    )
    thread.start()
    thread.join()
    assert seen == [None]  # another thread compiles its own, for its own connection


def test_misuse_is_refused():
    with scopes_disabled():
        not_values = PreparedQuery(lambda user_id: Membership.objects.filter(user_id=user_id))
        twice = PreparedQuery(
            lambda user_id: Membership.objects.filter(user_id=user_id, organisation_id=user_id).values_list("pk")
        )
        unused = PreparedQuery(lambda user_id: Membership.objects.values_list("pk"))
        with pytest.raises(TypeError, match="values_list"):
            not_values.rows(1)
        with pytest.raises(TypeError, match="once"):
            twice.rows(1)
        with pytest.raises(TypeError, match="once"):
            unused.rows(1)
        with pytest.raises(TypeError, match="expected 1 arguments"):
            PreparedQuery(lambda user_id: Membership.objects.filter(user_id=user_id).values_list("pk")).rows()
    with pytest.raises(ValueError, match="arguments"):
        PreparedQuery(lambda: None, kinds=())
    with pytest.raises(ValueError, match="int or str"):
        PreparedQuery(lambda day: None, kinds=(float,))
