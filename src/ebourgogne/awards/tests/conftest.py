"""Fixtures of the awards tests: an opened consultation of `buyer` with three opened bids and a late one."""

from __future__ import annotations

import pytest

from ebourgogne.organisations.roles import Role
from ebourgogne.testing.awards import opened_consultation
from ebourgogne.testing.factories import CompanyFactory, UserFactory, make_member


@pytest.fixture
def rivals(db):
    return [
        CompanyFactory(name="Charpentes de l'Yonne", slug="charpentes-de-l-yonne", email="contact@yonne.test"),
        CompanyFactory(
            name="Bâtiments du Morvan", slug="batiments-du-morvan", email="contact@morvan.test", is_sme=True
        ),
    ]


@pytest.fixture
def latecomer(db):
    return CompanyFactory(name="Toitures tardives", slug="toitures-tardives", email="contact@tardives.test")


@pytest.fixture
def opened(buyer, company, rivals, latecomer):
    """company, rivals[0], rivals[1] opened in time (bids 1-3), latecomer late (bid 4)."""
    return opened_consultation(buyer, companies=[company, *rivals], late=[latecomer])


@pytest.fixture
def second_evaluator(buyer):
    return make_member(
        buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Gaston Évaluateur", email="gaston@beaune.test")
    )


@pytest.fixture
def rival_member(rivals):
    return make_member(
        rivals[0], Role.COMPANY_MEMBER, UserFactory(full_name="Félix Concurrent", email="felix@yonne.test")
    )
