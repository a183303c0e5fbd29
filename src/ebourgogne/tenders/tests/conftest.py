"""Fixtures of the tenders tests."""

from __future__ import annotations

import pytest

from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import CompanyFactory, UserFactory, make_member


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Charpentes de l'Yonne", slug="charpentes-de-l-yonne")


@pytest.fixture
def other_company_member(other_company):
    return make_member(
        other_company, Role.COMPANY_ADMIN, UserFactory(full_name="Félix Concurrent", email="felix@yonne.test")
    )
