"""The new holder of a modification on the ground R2194-6, entered by the buyer on the draft modification's
page (or with the modification): recorded, shown, printed on the act's PDF; refused with a message on the
page and nothing stored on bad input, for another organisation (404) and once the act is signed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape
from django_scopes import scopes_disabled

from ebourgogne.contracts import execution
from ebourgogne.contracts.models import ContractDocument, Modification
from ebourgogne.core import clock
from ebourgogne.core.pdf import Document
from ebourgogne.testing.contracts import contract as make_contract
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db

NEW_SIRET = "73282932000074"
PASSPHRASE = "une phrase secrète de signature"


@pytest.fixture
def running(buyer, company):
    return make_contract(buyer, company, amount=Decimal("80000"), number="2026-NT")


def url(name, contract, *args):
    return reverse(f"contracts_execution:{name}", args=[contract.organisation.slug, contract.pk, *args])


def prepare(user, contract, ground="R2194-6", **extra):
    return execution.modification_create(
        acting_user=user,
        contract=contract,
        legal_ground=ground,
        object="Cession du marché",
        amount_change="0",
        effective_on=clock.today_local(),
        **extra,
    )


def stored(modification):
    with scopes_disabled():
        return Modification.objects.values_list("new_holder_name", "new_holder_siret").get(pk=modification.pk)


def test_the_form_is_shown_only_on_an_r2194_6_draft(client, running, buyer_agent):
    other = prepare(buyer_agent, running, ground="R2194-1")
    sign_in(client, buyer_agent)
    page = client.get(url("act", running, "avenant", other.pk)).content.decode()
    assert "Enregistrer le nouveau titulaire" not in page
    # Refused by the rule too, not only hidden.
    response = client.post(
        url("modification_new_holder", running, other.pk),
        {"new_holder_name": "Repreneur SAS", "new_holder_siret": NEW_SIRET},
    )
    assert response.status_code == 400 and escape("ne s'indique que pour une modification fondée sur R2194-6") in (
        response.content.decode()
    )
    assert stored(other) == ("", "")


def test_set_shown_and_printed_on_the_pdf(client, running, buyer_agent, monkeypatch):
    cession = prepare(buyer_agent, running)
    before = cession.document.sha256
    sign_in(client, buyer_agent)
    page = client.get(url("act", running, "avenant", cession.pk)).content.decode()
    assert "Enregistrer le nouveau titulaire" in page and 'id="new_holder_new_holder_siret"' in page
    rows = []
    original = Document.key_values

    def spy(self, pairs, *args, **kwargs):
        rows.extend(pairs)
        return original(self, pairs, *args, **kwargs)

    monkeypatch.setattr(Document, "key_values", spy)
    response = client.post(
        url("modification_new_holder", running, cession.pk),
        {"new_holder_name": "Repreneur SAS", "new_holder_siret": "732 829 320 00074"},
    )
    assert response.status_code == 302
    assert stored(cession) == ("Repreneur SAS", NEW_SIRET)
    assert ("SIRET", NEW_SIRET) in rows and ("Raison sociale", "Repreneur SAS") in rows
    with scopes_disabled():
        document = ContractDocument.objects.get(pk=cession.document_id)
    assert document.sha256 != before and document.original_sha256 == document.sha256  # the PDF made again
    page = client.get(url("act", running, "avenant", cession.pk)).content.decode()
    assert "Repreneur SAS" in page and NEW_SIRET in page
    assert 'value="Repreneur SAS"' in page  # the form prefilled
    pdf = client.get(url("document", running, cession.document_id))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_a_bad_siret_is_shown_on_the_page_and_nothing_is_stored(client, running, buyer_agent):
    cession = prepare(buyer_agent, running)
    sign_in(client, buyer_agent)
    response = client.post(
        url("modification_new_holder", running, cession.pk),
        {"new_holder_name": "Repreneur SAS", "new_holder_siret": "73282932000075"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Repreneur SAS" in html and "73282932000075" in html  # the input kept
    assert 'aria-invalid="true"' in html or "errorlist" in html
    assert stored(cession) == ("", "")
    # The current holder's SIRET is refused too.
    response = client.post(
        url("modification_new_holder", running, cession.pk),
        {"new_holder_name": "Même", "new_holder_siret": running.holder.siret},
    )
    assert response.status_code == 400 and escape("C'est le SIRET du titulaire actuel") in response.content.decode()
    assert stored(cession) == ("", "")


def test_another_organisation_gets_404(client, running, buyer_agent, outsider, other_buyer, company_member):
    cession = prepare(buyer_agent, running)
    data = {"new_holder_name": "Repreneur SAS", "new_holder_siret": NEW_SIRET}
    sign_in(client, outsider)
    assert client.post(url("modification_new_holder", running, cession.pk), data).status_code == 404
    other_url = reverse("contracts_execution:modification_new_holder", args=[other_buyer.slug, running.pk, cession.pk])
    assert client.post(other_url, data).status_code == 404
    sign_in(client, company_member)  # the holder: not its page
    assert client.post(url("modification_new_holder", running, cession.pk), data).status_code == 404
    assert stored(cession) == ("", "")


def test_not_after_a_signature(client, running, buyer_agent, buyer_admin):
    from ebourgogne.signatures import services as signing

    cession = prepare(buyer_agent, running)
    certificate = signing.certificate_issue(user=buyer_admin, passphrase=PASSPHRASE)
    execution.act_sign(acting_user=buyer_admin, item=cession, party="buyer", certificate=certificate, secret=PASSPHRASE)
    sign_in(client, buyer_agent)
    page = client.get(url("act", running, "avenant", cession.pk)).content.decode()
    assert "Enregistrer le nouveau titulaire" not in page
    with scopes_disabled():
        signed = ContractDocument.objects.get(pk=cession.document_id).sha256
    response = client.post(
        url("modification_new_holder", running, cession.pk),
        {"new_holder_name": "Repreneur SAS", "new_holder_siret": NEW_SIRET},
    )
    assert response.status_code == 400 and escape("déjà signée ou notifiée") in response.content.decode()
    assert stored(cession) == ("", "")
    # the service itself refuses too (not only the page's path): one signature fixes the act
    from ebourgogne.contracts import services
    from ebourgogne.core.errors import DomainError

    with pytest.raises(DomainError):
        services.modification_set_new_holder(
            acting_user=buyer_agent, modification=cession, name="Repreneur SAS", siret=NEW_SIRET
        )
    assert stored(cession) == ("", "")
    with scopes_disabled():
        assert ContractDocument.objects.get(pk=cession.document_id).sha256 == signed


def test_given_with_the_modification_on_the_creation_form(client, running, buyer_agent):
    sign_in(client, buyer_agent)
    data = {
        "legal_ground": "R2194-1",
        "object": "Cession",
        "amount_change": "0",
        "effective_on": clock.today_local().isoformat(),
        "new_holder_name": "Repreneur SAS",
        "new_holder_siret": NEW_SIRET,
    }
    refused = client.post(url("modification_create", running), data)
    assert refused.status_code == 400
    assert escape("ne s'indique que pour une modification fondée sur R2194-6") in refused.content.decode()
    bad = client.post(
        url("modification_create", running), {**data, "legal_ground": "R2194-6", "new_holder_siret": "123"}
    )
    assert bad.status_code == 400
    with scopes_disabled():
        assert Modification.objects.count() == 0 and ContractDocument.objects.filter(contract=running).count() == 0
    ok = client.post(url("modification_create", running), {**data, "legal_ground": "R2194-6"})
    assert ok.status_code == 302
    with scopes_disabled():
        modification = Modification.objects.get()
    assert (modification.new_holder_name, modification.new_holder_siret) == ("Repreneur SAS", NEW_SIRET)
