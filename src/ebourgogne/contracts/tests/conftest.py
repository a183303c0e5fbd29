"""Fixtures of the contracts tests: an award of `buyer` won by `company`, a contract in preparation with
its acte d'engagement (a small PDF), and platform-issued signing certificates for both parties."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from ebourgogne.core.pdf import Document
from ebourgogne.organisations.roles import Role
from ebourgogne.testing import contracts as builders
from ebourgogne.testing.factories import CompanyFactory, UserFactory, make_member
from ebourgogne.timestamping import authority as tsa

PASSPHRASE = "une phrase secrète de signature"


@pytest.fixture(autouse=True)
def authority_made_now(db):
    """The embedded timestamp authority exists before a test travels in time (its certificate starts now)."""
    tsa.get_authority()


@pytest.fixture
def rival(db):
    return CompanyFactory(name="Charpentes de l'Yonne", slug="charpentes-de-l-yonne", email="contact@yonne.test")


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Toitures d'ailleurs", slug="toitures-d-ailleurs", email="contact@ailleurs.test")


@pytest.fixture
def other_company_admin(other_company):
    return make_member(
        other_company, Role.COMPANY_ADMIN, UserFactory(full_name="Xavier Ailleurs", email="xavier@ailleurs.test")
    )


@pytest.fixture
def award(buyer, company, rival):
    return builders.awarded(buyer, company, rivals=[rival])


@pytest.fixture
def preparing(buyer, company):
    """A contract in preparation (written straight to the database), without documents."""
    return builders.contract(buyer, company, state="preparing")


def small_pdf(text: str = "Acte d'engagement — marché 2026-001") -> bytes:
    doc = Document(title="Acte d'engagement")
    doc.heading("Acte d'engagement")
    doc.paragraph(text)
    return doc.output()


@pytest.fixture
def pdf() -> bytes:
    return small_pdf()


def issue(user, label: str = ""):
    from ebourgogne.signatures import services as signing

    return signing.certificate_issue(user=user, passphrase=PASSPHRASE, label=label)


@pytest.fixture
def buyer_certificate(buyer_admin):
    return issue(buyer_admin)


@pytest.fixture
def holder_certificate(company_admin):
    return issue(company_admin)


def reload(instance):
    with scopes_disabled():
        return type(instance).objects.get(pk=instance.pk)
