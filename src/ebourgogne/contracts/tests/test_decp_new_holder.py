"""A modification that changes the holder (R2194-6): its new holder is recorded on the draft modification and
published in the essential data (`modification.titulaires`), valid against the JSON schema v2.0.3 and the
XSD 2.0.2; the modifications after it do not repeat it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled
from lxml import etree

from ebourgogne.audit.models import AuditEvent
from ebourgogne.contracts import decp, services
from ebourgogne.contracts.forms_execution import NewHolderForm
from ebourgogne.contracts.models import ChangeState, DecpRecord, Modification
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.services import InvalidData
from ebourgogne.testing import contracts as builders
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db

NEW_SIRET = "73282932000074"  # a valid SIRET (check digit)


def _modification(contract, number: int, ground: str = "R2194-6", state: str = ChangeState.DRAFT) -> Modification:
    with scopes_disabled():
        return Modification.objects.create(
            contract=contract,
            number=number,
            legal_ground=ground,
            object="Cession du marché" if ground == "R2194-6" else "Prestations complémentaires",
            amount_change=Decimal("0") if ground == "R2194-6" else Decimal("2500"),
            effective_on=clock.today_local(),
            state=state,
            created_at=clock.now(),
        )


def _notify(modification: Modification) -> Modification:
    with scopes_disabled():
        modification.state = ChangeState.NOTIFIED
        modification.notified_at = clock.now()
        modification.save(update_fields=["state", "notified_at"])
    return modification


def test_the_new_holder_is_published_and_valid_in_json_and_xml(buyer, company, buyer_agent):
    contract = builders.contract(buyer, company, number="2026-CES")
    decp.publish_initial(contract)
    cession = _modification(contract, 1)
    services.modification_set_new_holder(
        acting_user=buyer_agent, modification=cession, name="Repreneur SAS", siret="732 829 320 00074"
    )
    with scopes_disabled():
        cession.refresh_from_db()
    assert (cession.new_holder_name, cession.new_holder_siret) == ("Repreneur SAS", NEW_SIRET)
    assert AuditEvent.objects.filter(action="contracts.modification_new_holder").count() == 1

    record = decp.publish_modification(_notify(cession))
    assert record.payload["titulaires"] == [{"titulaire": {"typeIdentifiant": "SIRET", "id": NEW_SIRET}}]
    # A later modification (amount only) does not repeat the holder: it has not changed since.
    later = decp.publish_modification(_notify(_modification(contract, 2, ground="R2194-8")))
    assert "titulaires" not in later.payload

    with scopes_disabled():
        exported = decp.marche(contract, list(DecpRecord.objects.filter(contract=contract)))
    assert exported["titulaires"][0]["titulaire"]["id"] == company.siret  # the initial data are never rewritten
    assert exported["modifications"][0]["modification"]["titulaires"][0]["titulaire"]["id"] == NEW_SIRET
    document = decp.wrap([exported])
    assert decp.json_errors(document) == []
    xml = decp.to_xml(document)
    assert decp.xml_errors(xml) == []
    tree = etree.fromstring(xml)
    assert tree.xpath("marche/modifications/modification[id=1]/titulaires/titulaire/id/text()") == [NEW_SIRET]
    assert tree.xpath("marche/modifications/modification[id=1]/titulaires/titulaire/typeIdentifiant/text()") == [
        "SIRET"
    ]


@pytest.mark.parametrize(
    ("ground", "name", "siret", "field"),
    [
        ("R2194-6", "Repreneur SAS", "1234", "new_holder_siret"),  # not 14 digits
        ("R2194-6", "Repreneur SAS", "73282932000075", "new_holder_siret"),  # wrong check digit
        ("R2194-6", "", NEW_SIRET, "new_holder_name"),
        ("R2194-8", "Repreneur SAS", NEW_SIRET, "new_holder_siret"),  # not a change of holder
    ],
)
def test_a_wrong_new_holder_is_refused_and_nothing_stored(buyer, company, buyer_agent, ground, name, siret, field):
    contract = builders.contract(buyer, company, number="2026-BAD")
    modification = _modification(contract, 1, ground=ground)
    with pytest.raises(InvalidData) as refused:
        services.modification_set_new_holder(acting_user=buyer_agent, modification=modification, name=name, siret=siret)
    assert field in refused.value.errors
    with scopes_disabled():
        modification.refresh_from_db()
    assert modification.new_holder_siret == "" and modification.new_holder_name == ""


def test_the_current_holder_and_a_notified_modification_are_refused(buyer, company, buyer_agent):
    contract = builders.contract(buyer, company, number="2026-SAME")
    with pytest.raises(InvalidData) as same:
        services.modification_set_new_holder(
            acting_user=buyer_agent, modification=_modification(contract, 1), name="Même", siret=company.siret
        )
    assert "titulaire actuel" in same.value.errors["new_holder_siret"][0]
    notified = _notify(_modification(builders.contract(buyer, company, number="2026-NOT"), 1))
    with pytest.raises(DomainError) as late:
        services.modification_set_new_holder(
            acting_user=buyer_agent, modification=notified, name="Repreneur SAS", siret=NEW_SIRET
        )
    assert late.value.code == "signed"


def test_the_holder_company_cannot_set_it(buyer, company, company_admin):
    modification = _modification(builders.contract(buyer, company, number="2026-HOLD"), 1)
    with pytest.raises(DomainError):
        services.modification_set_new_holder(
            acting_user=company_admin, modification=modification, name="Repreneur SAS", siret=NEW_SIRET
        )
    with scopes_disabled():
        modification.refresh_from_db()
    assert modification.new_holder_siret == ""


def test_the_form_keeps_the_input_as_typed():
    form = NewHolderForm({"new_holder_name": "Repreneur SAS", "new_holder_siret": "732 829 320 00074"})
    assert form.is_valid() and form.cleaned_data["new_holder_siret"] == "732 829 320 00074"


def test_the_modification_page_shows_the_new_holder(client, buyer, company, buyer_agent):
    contract = builders.contract(buyer, company, number="2026-PAGE")
    cession = _modification(contract, 1)
    url = reverse("contracts_execution:act", args=[buyer.slug, contract.pk, "avenant", cession.pk])
    sign_in(client, buyer_agent)
    # Not in the summary (the page's form to enter it has the same label).
    assert "<dt>SIRET du nouveau titulaire</dt>" not in client.get(url).content.decode()
    services.modification_set_new_holder(
        acting_user=buyer_agent, modification=cession, name="Repreneur SAS", siret=NEW_SIRET
    )
    page = client.get(url).content.decode()
    assert "<dt>SIRET du nouveau titulaire</dt>" in page and NEW_SIRET in page and "Repreneur SAS" in page
