"""The execution services: modifications (dates, amounts, legal grounds), order forms under a framework
agreement, subcontracting and its changes, milestones, the contract's end; each refusal leaves nothing
behind; the acts are signed with real certificates (PAdES) and notified, and their essential data
published."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.awards.models import Letter
from ebourgogne.contracts import execution
from ebourgogne.contracts import execution_selectors as selectors
from ebourgogne.contracts.models import (
    ContractDocument,
    DecpRecord,
    Milestone,
    Modification,
    OrderForm,
    Subcontract,
    SubcontractChange,
)
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.services import InvalidData
from ebourgogne.testing.contracts import contract as make_contract

pytestmark = pytest.mark.django_db

PASSPHRASE = "une phrase secrète de signature"
SIRET = "73282932000074"  # a valid SIRET (Luhn key)


def reload(instance):
    with scopes_disabled():
        return type(instance).objects.get(pk=instance.pk)


def count(model, **filters) -> int:
    with scopes_disabled():
        return model.objects.filter(**filters).count()


def today() -> dt.date:
    return clock.today_local()


@pytest.fixture
def running(buyer, company):
    """A services contract of 120 000 € HT, 12 months, notified 10 days ago."""
    return make_contract(buyer, company, amount=Decimal("120000"), duration_months=12)


@pytest.fixture
def framework(buyer, company):
    return make_contract(buyer, company, amount=Decimal("50000"), is_framework=True, number="2026-AC1")


def certificate(user):
    from ebourgogne.signatures import services as signing

    return signing.certificate_issue(user=user, passphrase=PASSPHRASE)


def modify(contract, user, **changes):
    values = {
        "legal_ground": "R2194-1",
        "object": "Révision du périmètre",
        "amount_change": "10000",
        "duration_change_months": "2",
        "effective_on": today().isoformat(),
    }
    values.update(changes)
    return execution.modification_create(acting_user=user, contract=contract, **values)


def mark_notified(item):
    """Written straight to the database: the rules of a later act only need an earlier one notified."""
    with scopes_disabled():
        fields = {"notified_at": clock.now()}
        if hasattr(item, "state") and isinstance(item, (Modification, OrderForm)):
            fields["state"] = "notified"
        type(item).objects.filter(pk=item.pk).update(**fields)
    return reload(item)


# --- Modifications --------------------------------------------------------------------------------


def test_a_modification_is_prepared_with_its_pdf_and_audited(running, buyer_agent):
    modification = modify(running, buyer_agent, amount_change="12 500,50", duration_change_months="-1")
    assert modification.number == 1 and modification.state == "draft"
    assert modification.amount_change == Decimal("12500.50") and modification.duration_change_months == -1
    with scopes_disabled():
        document = ContractDocument.objects.get(pk=modification.document_id)
    assert document.kind == "modification" and document.size > 1000
    from ebourgogne.contracts import documents

    assert documents.content(document).startswith(b"%PDF")
    with scopes_disabled():
        event = AuditEvent.objects.filter(action="contracts.modification_created").get()
    assert event.data["amount_change"] == "12500.50" and event.data["amount_after"] == "132500.50"
    # Not notified yet: the current terms are still the initial ones.
    terms = selectors.terms(running)
    assert terms.amount == Decimal("120000") and terms.duration_months == 12


def test_a_modification_never_changes_the_past_of_a_notified_contract(running, buyer_agent):
    notified_on = running.notified_at.astimezone(clock.PARIS).date()
    with pytest.raises(InvalidData) as refused:
        modify(running, buyer_agent, effective_on=(notified_on - dt.timedelta(days=1)).isoformat())
    assert "ne peut pas changer le passé d'un marché notifié" in refused.value.errors["effective_on"][0]
    assert count(Modification) == 0 and count(ContractDocument) == 0
    # The notification day itself is allowed.
    first = modify(running, buyer_agent, effective_on=notified_on.isoformat())
    mark_notified(first)
    # ... but never before the previous modification.
    later = modify(running, buyer_agent, effective_on=(notified_on + dt.timedelta(days=5)).isoformat())
    mark_notified(later)
    with pytest.raises(InvalidData) as refused:
        modify(running, buyer_agent, effective_on=(notified_on + dt.timedelta(days=4)).isoformat())
    assert "modification n° 2" in refused.value.errors["effective_on"][0]
    assert count(Modification) == 2


def test_bad_input_is_refused_with_field_messages(running, buyer_agent):
    with pytest.raises(InvalidData) as refused:
        modify(
            running,
            buyer_agent,
            legal_ground="R9999",
            object="",
            amount_change="douze",
            duration_change_months="1,5",
            effective_on="31/12/2026",
        )
    assert set(refused.value.errors) == {
        "legal_ground",
        "object",
        "amount_change",
        "duration_change_months",
        "effective_on",
    }
    assert count(Modification) == 0


def test_only_a_notified_running_contract_is_modified(buyer, company, buyer_agent):
    preparing = make_contract(buyer, company, state="preparing", number="2026-P")
    with pytest.raises(DomainError) as refused:
        modify(preparing, buyer_agent)
    assert refused.value.code == "not_notified"
    ended = make_contract(buyer, company, state="ended", number="2026-E")
    with pytest.raises(DomainError) as refused:
        modify(ended, buyer_agent)
    assert refused.value.code == "contract_ended"
    assert count(Modification) == 0


def test_the_amount_stays_positive_and_one_modification_at_a_time(running, buyer_agent):
    with pytest.raises(InvalidData) as refused:
        modify(running, buyer_agent, amount_change="-120000")
    assert "supérieur à zéro" in refused.value.errors["amount_change"][0]
    with pytest.raises(InvalidData):
        modify(running, buyer_agent, amount_change="0", duration_change_months="-12")
    modify(running, buyer_agent, amount_change="-1000")
    with pytest.raises(DomainError) as refused:
        modify(running, buyer_agent)
    assert refused.value.code == "modification_pending"
    assert count(Modification) == 1


def test_additional_work_and_unforeseen_circumstances_are_capped_at_half(running, buyer_agent):
    for ground in ("R2194-2", "R2194-5"):
        with pytest.raises(InvalidData) as refused:
            modify(running, buyer_agent, legal_ground=ground, amount_change="60000.01")
        assert "50 %" in refused.value.errors["amount_change"][0]
    assert count(Modification) == 0
    assert modify(running, buyer_agent, legal_ground="R2194-2", amount_change="60000").number == 1


def test_de_minimis_changes_stay_below_ten_percent_cumulated(running, buyer_agent):
    mark_notified(modify(running, buyer_agent, legal_ground="R2194-8", amount_change="8000"))
    with pytest.raises(InvalidData) as refused:
        modify(running, buyer_agent, legal_ground="R2194-8", amount_change="-4000")
    message = refused.value.errors["legal_ground"][0]
    assert "10 %" in message and "R2194-8" in message and "12" in message and "000,00" in message
    assert count(Modification) == 1
    assert modify(running, buyer_agent, legal_ground="R2194-8", amount_change="3999.99").number == 2


def test_de_minimis_allows_fifteen_percent_for_works(buyer, company, buyer_agent):
    works = make_contract(buyer, company, contract_type="works", number="2026-T")
    assert modify(works, buyer_agent, legal_ground="R2194-8", amount_change="17999").number == 1
    services = make_contract(buyer, company, number="2026-S")
    with pytest.raises(InvalidData):
        modify(services, buyer_agent, legal_ground="R2194-8", amount_change="17999")


def test_current_terms_add_the_notified_modifications(running, buyer_agent):
    mark_notified(modify(running, buyer_agent, amount_change="10000", duration_change_months="2"))
    mark_notified(modify(running, buyer_agent, amount_change="-2500", duration_change_months="0"))
    modify(running, buyer_agent, amount_change="99999", duration_change_months="9")  # a draft: not counted
    terms = execution.current_terms(running)
    assert terms.amount == Decimal("127500") and terms.duration_months == 14
    assert terms.initial_amount == Decimal("120000") and terms.change_ratio == Decimal("6.3")


def test_who_may_prepare_a_modification(running, commission_member, company_admin, outsider):
    with pytest.raises(PermissionRefused):
        modify(running, commission_member)
    with pytest.raises(NotFound):
        modify(running, company_admin)
    with pytest.raises(NotFound):
        modify(running, outsider)
    assert count(Modification) == 0


# --- Order forms ----------------------------------------------------------------------------------


def test_orders_only_under_a_framework_agreement(running, buyer_agent):
    with pytest.raises(DomainError) as refused:
        execution.order_issue(acting_user=buyer_agent, contract=running, object="Fournitures", amount="100")
    assert refused.value.code == "not_framework"
    assert count(OrderForm) == 0


def test_orders_never_exceed_the_maximum(framework, buyer_agent):
    first = execution.order_issue(acting_user=buyer_agent, contract=framework, object="Lot A", amount="30000")
    assert first.number == 1 and first.issued_on == today() and first.document_id
    with pytest.raises(InvalidData) as refused:
        execution.order_issue(acting_user=buyer_agent, contract=framework, object="Lot B", amount="20000.01")
    message = refused.value.errors["amount"][0]
    assert "dépasserait le montant maximum" in message and "il reste" in message
    assert count(OrderForm) == 1
    second = execution.order_issue(acting_user=buyer_agent, contract=framework, object="Lot B", amount="20000")
    assert second.number == 2 and selectors.terms(framework).available_to_order == 0
    # A notified modification raises the maximum; it can never go below what is ordered.
    with pytest.raises(InvalidData) as refused:
        modify(framework, buyer_agent, amount_change="-1")
    assert "déjà commandé" in refused.value.errors["amount_change"][0]


def test_order_bad_input(framework, buyer_agent):
    with pytest.raises(InvalidData) as refused:
        execution.order_issue(
            acting_user=buyer_agent,
            contract=framework,
            object=" ",
            amount="-5",
            delivery_on=(today() - dt.timedelta(days=1)).isoformat(),
        )
    assert set(refused.value.errors) == {"object", "amount", "delivery_on"}
    assert count(OrderForm) == 0


# --- Subcontracting -------------------------------------------------------------------------------


def declare(contract, user, **changes):
    values = {
        "subcontractor_name": "Peintures de Bourgogne",
        "subcontractor_siret": "732 829 320 00074",
        "object": "Peinture des locaux",
        "amount": "30000",
        "duration_months": "6",
        "direct_payment": True,
        "price_variation": "Ferme",
    }
    values.update(changes)
    return execution.subcontract_declare(acting_user=user, contract=contract, **values)


def test_the_holder_declares_a_subcontractor_the_buyer_accepts(running, company_member, buyer_agent):
    declared = declare(running, company_member)
    assert declared.state == "declared" and declared.subcontractor_siret == SIRET and declared.document_id is None
    accepted = execution.subcontract_decide(acting_user=buyer_agent, subcontract=declared, decision="accepted")
    assert accepted.state == "accepted" and accepted.document_id is not None
    with scopes_disabled():
        assert ContractDocument.objects.get(pk=accepted.document_id).kind == "subcontract"
        actions = list(AuditEvent.objects.order_by("seq").values_list("action", flat=True))
    assert "contracts.subcontract_declared" in actions and "contracts.subcontract_decided" in actions
    with pytest.raises(DomainError) as refused:
        execution.subcontract_decide(acting_user=buyer_agent, subcontract=accepted, decision="refused", reason="x")
    assert refused.value.code == "decided"


def test_an_invalid_siret_is_refused(running, company_member):
    with pytest.raises(InvalidData) as refused:
        declare(running, company_member, subcontractor_siret="73282932000075")
    assert "SIRET n'est pas valide" in refused.value.errors["subcontractor_siret"][0]
    with pytest.raises(InvalidData):
        declare(running, company_member, subcontractor_siret="1234")
    assert count(Subcontract) == 0


def test_the_holder_is_not_its_own_subcontractor(running, company, company_member):
    with scopes_disabled():
        type(company).objects.filter(pk=company.pk).update(siren=SIRET[:9])
    with pytest.raises(InvalidData) as refused:
        declare(running, company_member, subcontractor_siret=SIRET)
    assert "celui du titulaire" in refused.value.errors["subcontractor_siret"][0]
    assert count(Subcontract) == 0


def test_subcontracts_never_exceed_the_contract_amount(running, company_member, buyer_agent):
    declare(running, company_member, amount="100000")
    with pytest.raises(InvalidData) as refused:
        declare(running, company_member, amount="20000.01")
    assert "dépasserait le montant du marché" in refused.value.errors["amount"][0]
    assert count(Subcontract) == 1
    # A refused subcontract frees its share.
    with scopes_disabled():
        first = Subcontract.objects.get()
    execution.subcontract_decide(acting_user=buyer_agent, subcontract=first, decision="refused", reason="Capacités")
    assert declare(running, company_member, amount="120000").number == 2


def test_a_refusal_states_its_reason(running, company_member, buyer_agent):
    declared = declare(running, company_member)
    with pytest.raises(InvalidData) as refused:
        execution.subcontract_decide(acting_user=buyer_agent, subcontract=declared, decision="refused", reason=" ")
    assert "motif du refus" in refused.value.errors["reason"][0]
    assert reload(declared).state == "declared"


def test_who_may_declare(running, company_admin, commission_member, outsider, other_company_admin):
    with pytest.raises(PermissionRefused):
        declare(running, commission_member)
    with pytest.raises(NotFound):
        declare(running, outsider)
    with pytest.raises(NotFound):
        declare(running, other_company_admin)
    assert count(Subcontract) == 0
    assert declare(running, company_admin).state == "declared"


@pytest.fixture
def other_company_admin(db):
    from ebourgogne.organisations.roles import Role
    from ebourgogne.testing.factories import CompanyFactory, UserFactory, make_member

    other = CompanyFactory(name="Toitures d'ailleurs", slug="toitures-d-ailleurs")
    return make_member(other, Role.COMPANY_ADMIN, UserFactory(email="xavier@ailleurs.test"))


def test_a_subcontract_change_never_changes_the_past_of_its_act(running, company_member, buyer_agent):
    accepted = execution.subcontract_decide(
        acting_user=buyer_agent, subcontract=declare(running, company_member), decision="accepted"
    )
    with pytest.raises(DomainError) as refused:
        execution.subcontract_change(
            acting_user=buyer_agent,
            subcontract=accepted,
            new_amount="35000",
            new_duration_months="8",
            effective_on=today().isoformat(),
        )
    assert refused.value.code == "not_notified"
    accepted = mark_notified(accepted)
    with pytest.raises(InvalidData) as refused:
        execution.subcontract_change(
            acting_user=buyer_agent,
            subcontract=accepted,
            new_amount="35000",
            new_duration_months="8",
            effective_on=(today() - dt.timedelta(days=1)).isoformat(),
        )
    assert "passé de l'acte de sous-traitance" in refused.value.errors["effective_on"][0]
    with pytest.raises(InvalidData) as refused:
        execution.subcontract_change(
            acting_user=buyer_agent,
            subcontract=accepted,
            new_amount="120000.01",
            new_duration_months="8",
            effective_on=today().isoformat(),
        )
    assert "new_amount" in refused.value.errors
    assert count(SubcontractChange) == 0
    change = execution.subcontract_change(
        acting_user=buyer_agent,
        subcontract=accepted,
        new_amount="35000",
        new_duration_months="8",
        effective_on=today().isoformat(),
        object="Extension aux couloirs",
    )
    assert change.number == 1 and change.document_id
    # Not notified: the subcontract's current amount is unchanged until it is.
    assert selectors.subcontract_current(accepted) == (Decimal("30000"), 6)
    mark_notified(change)
    assert selectors.subcontract_current(accepted) == (Decimal("35000"), 8)


# --- Milestones and the end -----------------------------------------------------------------------


def test_milestones(running, buyer_agent):
    milestone = execution.milestone_set(
        acting_user=buyer_agent, contract=running, title="Réception", due_on=(today() + dt.timedelta(days=30))
    )
    with pytest.raises(InvalidData) as refused:
        execution.milestone_done(
            acting_user=buyer_agent, milestone=milestone, done_on=(today() + dt.timedelta(days=1)).isoformat()
        )
    assert "futur" in refused.value.errors["done_on"][0]
    assert reload(milestone).done_on is None
    execution.milestone_done(acting_user=buyer_agent, milestone=milestone, done_on=today().isoformat())
    assert reload(milestone).done_on == today()
    with pytest.raises(InvalidData):
        execution.milestone_set(acting_user=buyer_agent, contract=running, title="", due_on="demain")
    assert count(Milestone) == 1
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="contracts.milestone_set").count() == 2


def test_termination_needs_a_reason(running, buyer_agent):
    with pytest.raises(InvalidData) as refused:
        execution.contract_end(acting_user=buyer_agent, contract=running, outcome="terminated", reason="")
    assert "motif de la résiliation" in refused.value.errors["reason"][0]
    assert reload(running).state == "notified" and reload(running).ended_at is None
    with pytest.raises(InvalidData):
        execution.contract_end(
            acting_user=buyer_agent,
            contract=running,
            outcome="ended",
            ended_on=(today() + dt.timedelta(days=1)).isoformat(),
        )
    with pytest.raises(InvalidData):
        execution.contract_end(
            acting_user=buyer_agent,
            contract=running,
            outcome="ended",
            ended_on=(today() - dt.timedelta(days=30)).isoformat(),
        )
    assert reload(running).state == "notified"
    ended = execution.contract_end(
        acting_user=buyer_agent, contract=running, outcome="terminated", reason="Défaillance du titulaire"
    )
    ended = reload(ended)
    assert ended.state == "terminated" and ended.end_reason == "Défaillance du titulaire"
    assert ended.ended_at is not None
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="contracts.ended").get().data["outcome"] == "terminated"
    with pytest.raises(DomainError) as refused:
        modify(ended, buyer_agent)
    assert refused.value.code == "contract_ended"


def test_the_end_starts_the_retention_of_the_documents(running, buyer_agent):
    modification = modify(running, buyer_agent)
    ended_on = today() - dt.timedelta(days=2)
    execution.contract_end(acting_user=buyer_agent, contract=running, outcome="ended", ended_on=ended_on.isoformat())
    document = reload(modification).document
    assert document.retain_until is not None and document.retain_until.year == ended_on.year + 5
    assert reload(running).ended_at.astimezone(clock.PARIS).date() == ended_on


# --- Signing and notifying, with real certificates ------------------------------------------------


@pytest.fixture
def signers(buyer_admin, company_admin):
    return {"buyer": (buyer_admin, certificate(buyer_admin)), "holder": (company_admin, certificate(company_admin))}


def sign(item, party, signers):
    user, cert = signers[party]
    return execution.act_sign(acting_user=user, item=item, party=party, certificate=cert, secret=PASSPHRASE)


def test_a_modification_is_signed_by_both_notified_and_published(running, buyer_agent, signers):
    modification = modify(running, buyer_agent, amount_change="15000", duration_change_months="3")
    with pytest.raises(DomainError) as refused:
        execution.modification_notify(acting_user=buyer_agent, modification=modification)
    assert refused.value.code == "not_signed"
    signed = sign(modification, "buyer", signers)
    assert signed.state == "draft"
    with pytest.raises(DomainError) as refused:
        sign(modification, "buyer", signers)
    assert refused.value.code == "already_signed"
    signed = sign(modification, "holder", signers)
    assert signed.state == "signed"
    document = reload(signed.document)
    assert document.buyer_signed_at and document.holder_signed_at and document.sha256 != document.original_sha256
    notified = execution.modification_notify(acting_user=buyer_agent, modification=modification)
    assert notified.state == "notified" and notified.notified_at
    with scopes_disabled():
        letter = Letter.objects.get(kind="modification")
        record = DecpRecord.objects.get(kind="modification", source_id=modification.pk)
    assert letter.company_id == running.holder_id and letter.sha256 == reload(document).sha256
    assert record.contract_id == running.pk and reload(modification).decp_published_at is not None
    terms = selectors.terms(running)
    assert terms.amount == Decimal("135000") and terms.duration_months == 15
    with pytest.raises(DomainError) as refused:
        execution.modification_notify(acting_user=buyer_agent, modification=modification)
    assert refused.value.code == "already_notified"


def test_signing_needs_the_signing_right(running, buyer_agent, company_member, signers):
    modification = modify(running, buyer_agent)
    with pytest.raises(PermissionRefused):
        execution.act_sign(
            acting_user=buyer_agent,
            item=modification,
            party="buyer",
            certificate=signers["buyer"][1],
            secret=PASSPHRASE,
        )
    with pytest.raises(PermissionRefused):
        execution.act_sign(
            acting_user=company_member,
            item=modification,
            party="holder",
            certificate=signers["holder"][1],
            secret=PASSPHRASE,
        )
    document = reload(reload(modification).document)
    assert document.buyer_signed_at is None and document.holder_signed_at is None


def test_an_order_is_signed_by_the_buyer_alone_and_notified(framework, buyer_agent, signers):
    order = execution.order_issue(acting_user=buyer_agent, contract=framework, object="Lot A", amount="1000")
    with pytest.raises(DomainError) as refused:
        sign(order, "holder", signers)
    assert refused.value.code == "not_a_signer"
    assert sign(order, "buyer", signers).state == "signed"
    notified = execution.order_notify(acting_user=buyer_agent, order=order)
    assert notified.state == "notified"
    with scopes_disabled():
        assert Letter.objects.filter(kind="order", company=framework.holder).count() == 1


def test_a_subcontract_and_its_change_are_signed_notified_and_published(running, company_member, buyer_agent, signers):
    declared = declare(running, company_member)
    with pytest.raises(DomainError) as refused:
        sign(declared, "holder", signers)
    assert refused.value.code == "not_accepted"
    accepted = execution.subcontract_decide(acting_user=buyer_agent, subcontract=declared, decision="accepted")
    sign(accepted, "holder", signers)
    sign(accepted, "buyer", signers)
    notified = execution.subcontract_notify(acting_user=buyer_agent, subcontract=accepted)
    assert notified.notified_at is not None
    change = execution.subcontract_change(
        acting_user=buyer_agent,
        subcontract=notified,
        new_amount="40000",
        new_duration_months="9",
        effective_on=today().isoformat(),
    )
    sign(change, "holder", signers)
    sign(change, "buyer", signers)
    execution.subcontract_change_notify(acting_user=buyer_agent, change=change)
    with scopes_disabled():
        kinds = sorted(
            DecpRecord.objects.filter(contract=running).exclude(kind="initial").values_list("kind", flat=True)
        )
        assert Letter.objects.filter(kind="subcontract").count() == 2
    assert kinds == ["subcontract", "subcontract_change"]
    assert selectors.terms(running).subcontracted == Decimal("40000")
