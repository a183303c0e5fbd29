"""The contract services: prepared from an award after the standstill, once; its terms while in
preparation; signed by both parties; notified (letter, execution start, essential data); who may do
what, and nothing changed when refused."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.awards.models import Award, Letter, LetterKind
from ebourgogne.contracts import documents, services
from ebourgogne.contracts.models import Contract, ContractDocument, DecpRecord
from ebourgogne.contracts.tests.conftest import PASSPHRASE, reload
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.services import InvalidData
from ebourgogne.signatures import services as signing
from ebourgogne.testing import contracts as builders

pytestmark = pytest.mark.django_db


def _create(award, user, number="2026-001"):
    return services.contract_create(award=award, acting_user=user, number=number)


def _signed(contract, buyer_admin, company_admin, buyer_certificate, holder_certificate):
    services.contract_sign(
        contract=contract, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret=PASSPHRASE
    )
    return services.contract_sign(
        contract=contract, party="holder", acting_user=company_admin, certificate=holder_certificate, secret=PASSPHRASE
    )


def test_a_contract_copies_the_award_and_gets_its_acte_d_engagement(award, buyer_agent, company, buyer):
    consultation = award.evaluation.consultation
    with scopes_disabled():
        consultation.insee_code = "21054"
        consultation.duration_months = 24
        consultation.save(update_fields=["insee_code", "duration_months"])
    contract = _create(award, buyer_agent)
    assert contract.state == "preparing" and contract.holder == company and contract.organisation == buyer
    assert contract.amount == award.winner.price == Decimal("120000")
    assert (contract.place_code, contract.place_code_type) == ("21054", "Code commune")
    assert contract.duration_months == 24 and contract.bids_received == 2
    assert contract.cpv_code == consultation.main_cpv_id and contract.procedure == consultation.procedure
    document = services.contract_document(contract)
    assert document.kind == "contract" and documents.content(document).startswith(b"%PDF-")
    assert AuditEvent.objects.filter(action="contracts.created").exists()


def test_the_place_falls_back_to_the_department(award, buyer_agent):
    consultation = award.evaluation.consultation
    with scopes_disabled():
        consultation.insee_code = ""
        consultation.department = "21"
        consultation.save(update_fields=["insee_code", "department"])
    contract = _create(award, buyer_agent)
    assert (contract.place_code, contract.place_code_type) == ("21", "Code département")


def test_not_before_the_standstill_ends(award, buyer_agent):
    ends = clock.now() + dt.timedelta(days=4)
    with scopes_disabled():
        Award.objects.filter(pk=award.pk).update(standstill_ends_at=ends)
    with pytest.raises(DomainError) as refused:
        _create(reload(award), buyer_agent)
    assert refused.value.code == "standstill"
    with scopes_disabled():
        assert not Contract.objects.exists()
    with time_machine.travel(ends + dt.timedelta(minutes=1), tick=False):
        assert _create(reload(award), buyer_agent).state == "preparing"


def test_one_contract_per_award_and_unique_numbers(award, buyer_agent, buyer, company):
    _create(award, buyer_agent)
    with pytest.raises(DomainError) as refused:
        _create(award, buyer_agent, number="2026-002")
    assert refused.value.code == "exists"
    other = builders.awarded(buyer, company)
    with pytest.raises(InvalidData) as duplicate:
        _create(other, buyer_agent)  # same number as the first
    assert "number" in duplicate.value.errors
    with pytest.raises(InvalidData):
        _create(other, buyer_agent, number="numéro trop long pour le format")
    with scopes_disabled():
        assert Contract.objects.count() == 1


def test_only_an_awarded_decision(buyer, company, buyer_agent):
    award = builders.awarded(buyer, company)
    with scopes_disabled():
        Award.objects.filter(pk=award.pk).update(outcome="abandoned", winner=None)
    with pytest.raises(DomainError) as refused:
        _create(reload(award), buyer_agent)
    assert refused.value.code == "not_awarded"


@pytest.mark.parametrize("who", ["anonymous", "outsider", "company_admin", "commission_member"])
def test_who_may_prepare(award, who, request):
    user = None if who == "anonymous" else request.getfixturevalue(who)
    expected = NotFound if who in ("outsider", "company_admin") else PermissionRefused
    with pytest.raises(expected):
        _create(award, user)
    with scopes_disabled():
        assert not Contract.objects.exists() and not ContractDocument.objects.exists()


def test_terms_are_validated_and_regenerate_the_acte(award, buyer_agent):
    contract = _create(award, buyer_agent)
    before = services.contract_document(contract).sha256
    with pytest.raises(InvalidData) as invalid:
        services.contract_update_terms(
            contract=contract,
            acting_user=buyer_agent,
            price_form="Au doigt mouillé",
            techniques=["Accord-cadre", "Tirage au sort"],
            has_advance=True,
            advance_rate="250",
        )
    assert set(invalid.value.errors) == {"price_form", "techniques", "advance_rate"}
    assert reload(contract).price_form == "Forfaitaire"
    services.contract_update_terms(
        contract=contract,
        acting_user=buyer_agent,
        price_form="Unitaire",
        price_types=["Définitif révisable"],
        ccag="Travaux",
        techniques=["Accord-cadre"],
        execution_modes=["Bons de commande"],
        social_considerations=["Clause sociale"],
        environmental_considerations=[],
        is_framework=True,
        has_advance=True,
        advance_rate="5",
        duration_months=36,
    )
    after = reload(contract)
    assert after.price_form == "Unitaire" and after.ccag == "Travaux" and after.is_framework
    assert after.advance_rate == Decimal("0.0500") and after.duration_months == 36
    assert after.price_types == ["Définitif révisable"] and after.social_considerations == ["Clause sociale"]
    document = services.contract_document(after)
    assert document.sha256 != before and document.original_sha256 == document.sha256
    assert documents.content(document).startswith(b"%PDF-")


def test_terms_only_while_nobody_signed(award, buyer_agent, buyer_admin, buyer_certificate):
    contract = _create(award, buyer_agent)
    services.contract_sign(
        contract=contract, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret=PASSPHRASE
    )
    with pytest.raises(DomainError) as refused:
        services.contract_update_terms(contract=contract, acting_user=buyer_agent, ccag="Travaux")
    assert refused.value.code == "signed"
    assert reload(contract).ccag == "Pas de CCAG"


def test_sign_notify_publish(
    award, buyer_agent, buyer_admin, company_admin, buyer_certificate, holder_certificate, company
):
    contract = _create(award, buyer_agent)
    with pytest.raises(DomainError) as early:
        services.contract_notify(contract=contract, acting_user=buyer_agent)
    assert early.value.code == "not_signed"
    services.contract_sign(
        contract=contract, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret=PASSPHRASE
    )
    assert reload(contract).state == "preparing"
    done = services.contract_sign(
        contract=contract, party="holder", acting_user=company_admin, certificate=holder_certificate, secret=PASSPHRASE
    )
    assert done.state == "signed" and done.signed_at is not None
    checks = signing.validate_pdf(documents.content(services.contract_document(done)))
    assert [check.kind for check in checks].count("signature") == 2 and all(check.ok for check in checks)
    with pytest.raises(DomainError) as again:
        services.contract_sign(
            contract=done, party="buyer", acting_user=buyer_admin, certificate=buyer_certificate, secret=PASSPHRASE
        )
    assert again.value.code == "already_signed"

    stamp = reload(done.consultation).updated_at
    notified = services.contract_notify(contract=done, acting_user=buyer_agent)
    assert notified.state == "notified" and notified.notified_at is not None
    assert reload(done.consultation).updated_at > stamp  # the public page's kept copy is renewed
    assert notified.starts_on == notified.notified_at.astimezone(clock.PARIS).date()
    assert notified.ends_on is not None and notified.ends_on > notified.starts_on
    with scopes_disabled():
        letter = Letter.objects.get(pk=notified.notification_letter_id)
        assert letter.kind == LetterKind.CONTRACT and letter.company == company
        # The essential data are published at the notification (120 000 € HT is above the threshold).
        record = DecpRecord.objects.get(contract=notified, kind="initial")
    assert record.payload["id"] == "2026-001" and record.payload["montant"] == 120000
    assert reload(notified).decp_published_at == record.published_at
    with pytest.raises(DomainError) as twice:
        services.contract_notify(contract=notified, acting_user=buyer_agent)
    assert twice.value.code == "already_notified"


def test_below_the_threshold_nothing_is_published(
    buyer, company, buyer_agent, buyer_admin, company_admin, buyer_certificate, holder_certificate
):
    award = builders.awarded(buyer, company, price=Decimal("15000"))
    contract = _signed(_create(award, buyer_agent), buyer_admin, company_admin, buyer_certificate, holder_certificate)
    notified = services.contract_notify(contract=contract, acting_user=buyer_agent)
    assert notified.state == "notified" and notified.decp_published_at is None
    with scopes_disabled():
        assert not DecpRecord.objects.filter(contract=notified).exists()


@pytest.mark.parametrize("who", ["outsider", "company_admin", "commission_member"])
def test_who_may_notify(
    who, request, award, buyer_agent, buyer_admin, company_admin, buyer_certificate, holder_certificate
):
    contract = _signed(_create(award, buyer_agent), buyer_admin, company_admin, buyer_certificate, holder_certificate)
    user = request.getfixturevalue(who)
    with pytest.raises(NotFound if who in ("outsider", "company_admin") else PermissionRefused):
        services.contract_notify(contract=contract, acting_user=user)
    after = reload(contract)
    assert after.state == "signed" and after.notification_letter_id is None
    with scopes_disabled():
        assert not Letter.objects.filter(kind=LetterKind.CONTRACT).exists()


def test_a_piece_signed_elsewhere_is_kept_with_its_report(preparing, company_admin, buyer_admin, pdf):
    signer = signing.certificate_issue(user=buyer_admin, passphrase=PASSPHRASE)
    signed = signing.sign_pdf(pdf, certificate=signer, secret=PASSPHRASE, field_name="Signature1")
    document = services.document_upload_signed(
        contract=preparing, acting_user=company_admin, pdf_bytes=signed, filename="dc4.pdf", title="DC4"
    )
    assert document.verification["format"] == "PAdES"
    assert len(document.verification["signatures"]) == 1
    assert reload(document).verification == document.verification
    with pytest.raises(DomainError) as refused:
        services.document_upload_signed(
            contract=preparing, acting_user=company_admin, pdf_bytes=b"not a pdf", filename="x.pdf", title="X"
        )
    assert refused.value.code == "not_pdf"


def test_the_demo_contract_is_signed_by_both_and_notified(buyer, company, buyer_admin, company_admin):
    from ebourgogne.contracts.demo import create_demo_contracts
    from ebourgogne.testing.factories import ConsultationFactory

    with scopes_disabled():
        ConsultationFactory(
            organisation=buyer,
            state="awarded",
            estimated_value=Decimal("310000"),
            published_at=clock.now() - dt.timedelta(days=120),
            questions_deadline=clock.now() - dt.timedelta(days=90),
            bids_deadline=clock.now() - dt.timedelta(days=80),
            closed_at=clock.now() - dt.timedelta(days=80),
            opened_at=clock.now() - dt.timedelta(days=79),
            ended_at=clock.now() - dt.timedelta(days=60),
        )
    [contract] = create_demo_contracts({"commune": buyer, "tp-auxois": company})
    assert contract.state == "notified" and contract.holder == company
    assert contract.amount == Decimal("279000")
    checks = signing.validate_pdf(documents.content(services.contract_document(contract)))
    assert [check.kind for check in checks].count("signature") == 2 and all(check.ok for check in checks)
    assert create_demo_contracts({"commune": buyer, "tp-auxois": company}) == []  # nothing twice
