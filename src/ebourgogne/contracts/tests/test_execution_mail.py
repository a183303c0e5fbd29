"""A subcontractor declared by the holder waits for the buyer: the buyer's staff who manage contracts
are told by e-mail (sent for real through the queue to an SMTP server), each in their language, with
the link to decide. A declaration by the buyer itself sends nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.tasks import task_backends

from ebourgogne.contracts import execution
from ebourgogne.core.worker import make_worker
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.contracts import contract as make_contract
from ebourgogne.testing.factories import UserFactory, make_member

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def cpv_code(db):
    """The CPV code the factory uses: transactional tests flush the codes the migration loaded."""
    from ebourgogne.consultations.models import CpvCode

    CpvCode.objects.get_or_create(
        code="45000000",
        defaults={
            "check_digit": "7",
            "label_fr": "Travaux de construction",
            "label_en": "Construction work",
            "level": 1,
        },
    )


def _declare(contract, user):
    return execution.subcontract_declare(
        acting_user=user,
        contract=contract,
        subcontractor_name="Peintures de Bourgogne",
        subcontractor_siret="73282932000074",
        object="Peinture des locaux",
        amount="15000",
        duration_months="6",
    )


def test_the_buyers_contract_staff_are_told_of_a_declared_subcontractor(smtp_server, buyer, company):
    contract = make_contract(buyer, company, amount=Decimal("120000"), number="2026-ST1")
    make_member(buyer, Role.BUYER_ADMIN, UserFactory(email="alice@beaune.test", language="fr"))
    make_member(buyer, Role.BUYER_AGENT, UserFactory(email="jordan@beaune.test", language="en"))
    make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(email="chantal@beaune.test"))  # not contract staff
    holder = make_member(company, Role.COMPANY_MEMBER, UserFactory(email="emma@menuiserie.test"))

    subcontract = _declare(contract, holder)
    make_worker(backend=task_backends["default"], batch=True).run()
    messages = smtp_server.wait_for(2)
    by_recipient = {message["To"]: message for message in messages}
    assert set(by_recipient) == {"alice@beaune.test", "jordan@beaune.test"}
    french = by_recipient["alice@beaune.test"].get_body(preferencelist=("plain",)).get_content()
    assert by_recipient["alice@beaune.test"]["Subject"].startswith("Sous-traitant déclaré sur le marché 2026-ST1")
    assert (
        "Peintures de Bourgogne (SIRET 73282932000074)" in french and "Montant maximum : 15\u00a0000,00 € HT" in french
    )
    path = f"/organisations/{buyer.slug}/marches/{contract.pk}/execution/sous-traitance/{subcontract.pk}/"
    assert path in french
    assert by_recipient["jordan@beaune.test"]["Content-Language"] == "en"
    english = by_recipient["jordan@beaune.test"].get_body(preferencelist=("plain",)).get_content()
    assert "Maximum amount: 15,000.00 € HT" in english  # each reader's number format
    assert "15\u00a0000,00" not in english and "15,000.00" not in french


def test_a_declaration_by_the_buyer_sends_nothing(smtp_server, buyer, company):
    contract = make_contract(buyer, company, amount=Decimal("120000"), number="2026-ST2")
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(email="jordan@beaune.test"))
    _declare(contract, agent)
    make_worker(backend=task_backends["default"], batch=True).run()
    assert smtp_server.messages == []
