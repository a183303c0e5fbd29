"""The contract pages: the buyer prepares, sets the terms, signs, notifies; the holder signs and reads;
another buyer or another company gets a 404; bad input is answered on the page with the input kept;
the award notice and the award-page link."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.contracts import documents, services
from ebourgogne.contracts.models import Contract
from ebourgogne.contracts.tests.conftest import PASSPHRASE, reload
from ebourgogne.testing import contracts as builders
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def prepared(award, buyer_agent):
    return services.contract_create(award=award, acting_user=buyer_agent, number="2026-001")


def _buyer(name, contract, *args):
    return reverse(f"contracts:{name}", args=[contract.organisation.slug, contract.pk, *args])


def _holder(name, contract, *args):
    return reverse(f"contracts_holder:{name}", args=[contract.holder.slug, contract.pk, *args])


def test_the_buyer_prepares_from_the_list(client, award, buyer_agent, buyer):
    sign_in(client, buyer_agent)
    page = client.get(reverse("contracts:list", args=[buyer.slug]))
    assert page.status_code == 200
    prepare = reverse("contracts:prepare", args=[buyer.slug, award.pk])
    assert prepare in page.content.decode()
    refused = client.post(prepare, {"number": "numéro bien trop long"})
    assert refused.status_code == 400
    assert "numéro bien trop long" in refused.content.decode()  # the input is kept
    done = client.post(prepare, {"number": "2026-007"})
    with scopes_disabled():
        contract = Contract.objects.get()
    assert done.status_code == 302 and done["Location"] == _buyer("detail", contract)
    assert client.get(prepare)["Location"] == _buyer("detail", contract)  # once per award
    detail = client.get(_buyer("detail", contract)).content.decode()
    assert "2026-007" in detail and 'id="terms_ccag"' in detail


def test_not_before_the_standstill_on_the_page(client, award, buyer_agent, buyer):
    from ebourgogne.awards.models import Award
    from ebourgogne.core import clock

    with scopes_disabled():
        Award.objects.filter(pk=award.pk).update(standstill_ends_at=clock.now() + dt.timedelta(days=2))
    sign_in(client, buyer_agent)
    response = client.post(reverse("contracts:prepare", args=[buyer.slug, award.pk]), {"number": "2026-001"})
    assert response.status_code == 400 and "délai de suspension" in response.content.decode()
    with scopes_disabled():
        assert not Contract.objects.exists()


def test_terms_errors_are_shown_and_nothing_is_stored(client, prepared, buyer_agent):
    sign_in(client, buyer_agent)
    response = client.post(
        _buyer("terms", prepared),
        {"price_form": "Unitaire", "ccag": "Travaux", "grouping": "Solidaire", "duration_months": "0"},
    )
    assert response.status_code == 400
    assert reload(prepared).ccag == "Pas de CCAG"
    ok = client.post(
        _buyer("terms", prepared),
        {
            "price_form": "Unitaire",
            "ccag": "Travaux",
            "grouping": "Solidaire",
            "duration_months": "18",
            "has_advance": "on",
            "advance_rate": "5",
            "techniques": ["Accord-cadre"],
        },
    )
    assert ok.status_code == 302
    after = reload(prepared)
    assert (after.ccag, after.grouping, after.duration_months, after.techniques) == (
        "Travaux",
        "Solidaire",
        18,
        ["Accord-cadre"],
    )


def test_both_sign_then_the_buyer_notifies(
    client, prepared, buyer_admin, company_admin, buyer_certificate, holder_certificate, company
):
    sign_in(client, buyer_admin)
    wrong = client.post(_buyer("sign", prepared), {"certificate": buyer_certificate.pk, "secret": "pas la bonne"})
    assert wrong.status_code == 400 and "incorrecte" in wrong.content.decode()
    assert services.contract_document(prepared).buyer_signed_at is None
    assert (
        client.post(_buyer("sign", prepared), {"certificate": buyer_certificate.pk, "secret": PASSPHRASE}).status_code
        == 302
    )
    client.logout()
    sign_in(client, company_admin)
    page = client.get(_holder("detail", prepared)).content.decode()
    assert 'id="sign_secret"' in page
    signed = client.post(_holder("sign", prepared), {"certificate": holder_certificate.pk, "secret": PASSPHRASE})
    assert signed.status_code == 302 and reload(prepared).state == "signed"
    document = services.contract_document(prepared)
    download = client.get(_holder("download", prepared, document.pk))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert download.content == documents.content(document)
    client.logout()
    sign_in(client, buyer_admin)
    notified = client.post(_buyer("notify", prepared))
    assert notified.status_code == 302 and reload(prepared).state == "notified"
    detail = client.get(_buyer("detail", prepared)).content.decode()
    assert "Courrier de notification envoyé" in detail


def test_buyer_and_holder_isolation(
    client, prepared, outsider, other_buyer, other_company, other_company_admin, company_admin, buyer_agent
):
    document = services.contract_document(prepared)
    sign_in(client, outsider)
    # Another buyer: its own slug with our contract's id, and our slug, both 404.
    assert client.get(reverse("contracts:detail", args=[other_buyer.slug, prepared.pk])).status_code == 404
    assert client.get(_buyer("detail", prepared)).status_code == 404
    assert (
        client.get(reverse("contracts:download", args=[other_buyer.slug, prepared.pk, document.pk])).status_code == 404
    )
    client.logout()
    sign_in(client, other_company_admin)
    assert client.get(reverse("contracts_holder:detail", args=[other_company.slug, prepared.pk])).status_code == 404
    assert (
        client.get(reverse("contracts_holder:list", args=[other_company.slug])).content.decode().count("2026-001") == 0
    )
    assert client.get(_holder("download", prepared, document.pk)).status_code == 404
    client.logout()
    sign_in(client, company_admin)
    assert client.get(_buyer("detail", prepared)).status_code == 404  # the holder is not the buyer
    assert "2026-001" in client.get(reverse("contracts_holder:list", args=[prepared.holder.slug])).content.decode()


def test_a_tampered_file_is_not_served(client, prepared, buyer_agent):
    document = services.contract_document(prepared)
    from django.core.files.storage import default_storage

    with default_storage.open(document.storage_name, "wb") as handle:
        handle.write(b"%PDF-1.7 changed")
    sign_in(client, buyer_agent)
    response = client.get(_buyer("download", prepared, document.pk))
    assert response.status_code == 409 and b"changed" not in response.content


def test_a_piece_that_is_not_a_pdf_is_refused_on_the_page(client, prepared, company_admin):
    from django.core.files.uploadedfile import SimpleUploadedFile

    sign_in(client, company_admin)
    response = client.post(
        _holder("upload", prepared),
        {"title": "Acte DC4", "kind": "subcontract", "file": SimpleUploadedFile("dc4.pdf", b"GIF89a")},
    )
    assert response.status_code == 400
    body = html.unescape(response.content.decode())
    assert "n'est pas un document PDF" in body and 'value="Acte DC4"' in body


def test_the_award_notice_lists_only_notified_contracts(buyer, company):
    notified = builders.contract(buyer, company, state="notified", number="2026-010")
    builders.contract(buyer, company, state="preparing", number="2026-011")
    text = Template("{% load contracts_ui %}{% award_notice consultation %}").render(
        Context({"consultation": notified.consultation})
    )
    text = html.unescape(text).replace("\xa0", " ").replace("\u202f", " ")
    assert "Avis d'attribution" in text and company.name in text and "120 000,00" in text
    other = builders.contract(buyer, company, state="signed", number="2026-012")
    assert (
        Template("{% load contracts_ui %}{% award_notice consultation %}")
        .render(Context({"consultation": other.consultation}))
        .strip()
        == ""
    )


def test_the_award_page_link(award, buyer, buyer_agent, prepared):
    request = RequestFactory().get("/")
    request.organisation_roles = {"buyer_agent"}
    text = Template("{% load contracts_ui %}{% contract_link organisation award %}").render(
        Context({"organisation": buyer, "award": award, "request": request})
    )
    assert _buyer("detail", prepared) in text
