from __future__ import annotations

import pytest

from ebourgogne.alerts import services
from ebourgogne.search.tests.conftest import published
from ebourgogne.testing.factories import CompanyFactory, make_member


@pytest.fixture
def make_published(db):
    return published


@pytest.fixture
def subscriber(db):
    """A member of a company: may have alerts."""
    company = CompanyFactory(name="Bâtiments Morvan")
    user = make_member(company, "company_member")
    user.email = "veille@batiments-morvan.test"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def other_subscriber(db):
    company = CompanyFactory(name="Voirie Bourgogne")
    user = make_member(company, "company_member")
    user.email = "veille@voirie-bourgogne.test"
    user.save(update_fields=["email"])
    return user


def new_alert(owner, *, name="Alerte", delivery="immediate", **criteria):
    return services.create_alert(owner=owner, name=name, criteria=criteria, delivery=delivery)


@pytest.fixture
def make_alert():
    return new_alert
