"""The execution pages over HTTP: who sees what (another buyer and another company get 404), bad input
answered with a clear message and the input kept (nothing stored), the holder's side (read, declare,
sign), the signing and notification through the pages with real certificates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import escape
from django_scopes import scopes_disabled

from ebourgogne.contracts import execution
from ebourgogne.contracts.models import Modification, OrderForm, Subcontract
from ebourgogne.core import clock
from ebourgogne.testing.contracts import contract as make_contract
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db

PASSPHRASE = "une phrase secrète de signature"
SIRET = "73282932000074"


@pytest.fixture
def running(buyer, company):
    return make_contract(buyer, company, amount=Decimal("80000"), is_framework=True, number="2026-V")


def buyer_url(name, contract, *args):
    return reverse(f"contracts_execution:{name}", args=[contract.organisation.slug, contract.pk, *args])


def holder_url(name, contract, *args):
    return reverse(f"contracts_holder_execution:{name}", args=[contract.holder.slug, contract.pk, *args])


def count(model) -> int:
    with scopes_disabled():
        return model.objects.count()


def today() -> dt.date:
    return clock.today_local()


def test_pages_and_strangers(client, running, buyer_agent, company_member, outsider, other_buyer):
    sign_in(client, buyer_agent)
    page = client.get(buyer_url("overview", running))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Préparer une modification" in html and "Émettre un bon de commande" in html
    assert "80\u202f000,00 € HT" in html or "80 000,00 € HT" in html or "80\xa0000,00 € HT" in html
    sign_in(client, company_member)
    holder_page = client.get(holder_url("overview", running))
    assert holder_page.status_code == 200
    assert "Déclarer un sous-traitant" in holder_page.content.decode()
    assert "Préparer une modification" not in holder_page.content.decode()
    # The holder does not reach the buyer's pages, the buyer not the holder's.
    assert client.get(buyer_url("overview", running)).status_code == 404
    sign_in(client, buyer_agent)
    assert client.get(holder_url("overview", running)).status_code == 404
    # Another buyer: 404, under our slug and under its own.
    sign_in(client, outsider)
    assert client.get(buyer_url("overview", running)).status_code == 404
    assert client.get(reverse("contracts_execution:overview", args=[other_buyer.slug, running.pk])).status_code == 404


def test_another_company_gets_404(client, running, buyer_agent):
    from ebourgogne.organisations.roles import Role
    from ebourgogne.testing.factories import CompanyFactory, UserFactory, make_member

    other = CompanyFactory(name="Toitures d'ailleurs", slug="toitures-d-ailleurs")
    stranger = make_member(other, Role.COMPANY_ADMIN, UserFactory(email="xavier@ailleurs.test"))
    modification = execution.modification_create(
        acting_user=buyer_agent,
        contract=running,
        legal_ground="R2194-1",
        object="Réexamen",
        amount_change="100",
        effective_on=today(),
    )
    sign_in(client, stranger)
    assert client.get(reverse("contracts_holder_execution:overview", args=[other.slug, running.pk])).status_code == 404
    assert (
        client.get(
            reverse("contracts_holder_execution:act", args=[other.slug, running.pk, "avenant", modification.pk])
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("contracts_holder_execution:document", args=[other.slug, running.pk, modification.document_id])
        ).status_code
        == 404
    )
    assert client.post(holder_url("subcontract_declare", running), {"subcontractor_name": "X"}).status_code == 404


def test_a_modification_before_the_notification_is_refused_on_the_page(client, running, buyer_agent):
    sign_in(client, buyer_agent)
    before = (running.notified_at.astimezone(clock.PARIS).date() - dt.timedelta(days=3)).isoformat()
    response = client.post(
        buyer_url("modification_create", running),
        {
            "legal_ground": "R2194-1",
            "object": "Avenant rétroactif",
            "amount_change": "1500",
            "duration_change_months": "",
            "effective_on": before,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert escape("ne peut pas changer le passé d'un marché notifié") in html
    assert "Avenant rétroactif" in html and before in html  # the input is kept
    assert count(Modification) == 0
    ok = client.post(
        buyer_url("modification_create", running),
        {"legal_ground": "R2194-1", "object": "Avenant", "amount_change": "1500", "effective_on": today().isoformat()},
    )
    assert ok.status_code == 302 and count(Modification) == 1


def test_orders_beyond_the_maximum_and_bad_siret_are_refused_on_the_page(client, running, buyer_agent):
    sign_in(client, buyer_agent)
    response = client.post(buyer_url("order_issue", running), {"object": "Fournitures", "amount": "80000,01"})
    assert response.status_code == 400
    assert escape("dépasserait le montant maximum de l'accord-cadre") in response.content.decode()
    assert count(OrderForm) == 0
    response = client.post(
        buyer_url("subcontract_declare", running),
        {
            "subcontractor_name": "Peintures",
            "subcontractor_siret": "12345678901234",
            "object": "Peinture",
            "amount": "1000",
            "duration_months": "2",
            "price_variation": "Ferme",
        },
    )
    assert response.status_code == 400
    assert escape("Ce SIRET n'est pas valide") in response.content.decode()
    assert "12345678901234" in response.content.decode()
    assert count(Subcontract) == 0


def test_termination_without_reason_and_a_garbage_date_are_refused(client, running, buyer_agent):
    sign_in(client, buyer_agent)
    response = client.post(buyer_url("end", running), {"outcome": "terminated", "reason": ""})
    assert response.status_code == 400
    assert escape("Indiquez le motif de la résiliation.") in response.content.decode()
    response = client.post(buyer_url("end", running), {"outcome": "ended", "ended_on": "hier"})
    assert response.status_code == 400 and "hier" in response.content.decode()
    milestone = execution.milestone_set(acting_user=buyer_agent, contract=running, title="Réception", due_on=today())
    response = client.post(buyer_url("milestone_done", running, milestone.pk), {"done_on": "2999-01-01"})
    assert response.status_code == 400 and "2999-01-01" in response.content.decode()
    with scopes_disabled():
        running.refresh_from_db()
        milestone.refresh_from_db()
    assert running.state == "notified" and milestone.done_on is None
    done = client.post(buyer_url("end", running), {"outcome": "ended", "ended_on": ""})
    assert done.status_code == 302
    with scopes_disabled():
        running.refresh_from_db()
    assert running.state == "ended"
    page = client.get(buyer_url("overview", running))
    assert "Préparer une modification" not in page.content.decode()


def test_unknown_kinds_and_items_are_404(client, running, buyer_agent):
    sign_in(client, buyer_agent)
    assert client.get(buyer_url("act", running, "nimporte", 1)).status_code == 404
    assert client.get(buyer_url("act", running, "avenant", 999)).status_code == 404


def test_the_holder_declares_and_both_sign_through_the_pages(
    client, running, buyer_admin, company_member, company_admin
):
    from ebourgogne.signatures import services as signing

    sign_in(client, company_member)
    response = client.post(
        holder_url("subcontract_declare", running),
        {
            "subcontractor_name": "Peintures de Bourgogne",
            "subcontractor_siret": "732 829 320 00074",
            "object": "Peinture des locaux",
            "amount": "20 000",
            "duration_months": "4",
            "direct_payment": "on",
            "price_variation": "Ferme",
        },
    )
    assert response.status_code == 302
    with scopes_disabled():
        subcontract = Subcontract.objects.get()
    assert subcontract.subcontractor_siret == SIRET and subcontract.declared_by == company_member
    # The buyer accepts it on its page; a refusal without reason was refused first.
    sign_in(client, buyer_admin)
    refused = client.post(buyer_url("subcontract_decide", running, subcontract.pk), {"decision": "refused"})
    assert refused.status_code == 400 and escape("Indiquez le motif du refus.") in refused.content.decode()
    accepted = client.post(buyer_url("subcontract_decide", running, subcontract.pk), {"decision": "accepted"})
    assert accepted.status_code == 302
    # Both sign with their own certificates.
    for user, url_of in ((company_admin, holder_url), (buyer_admin, buyer_url)):
        certificate = signing.certificate_issue(user=user, passphrase=PASSPHRASE)
        sign_in(client, user)
        page = client.get(url_of("act", running, "sous-traitance", subcontract.pk))
        assert page.status_code == 200 and "Signer le document" in page.content.decode()
        wrong = client.post(
            url_of("act_sign", running, "sous-traitance", subcontract.pk),
            {"certificate": certificate.pk, "secret": "pas la bonne phrase"},
        )
        assert wrong.status_code == 400
        done = client.post(
            url_of("act_sign", running, "sous-traitance", subcontract.pk),
            {"certificate": certificate.pk, "secret": PASSPHRASE},
        )
        assert done.status_code == 302, done.content.decode()[:2000]
    page = client.get(buyer_url("act", running, "sous-traitance", subcontract.pk))
    assert "Notifier l'acte" in page.content.decode()
    notified = client.post(buyer_url("act_notify", running, "sous-traitance", subcontract.pk))
    assert notified.status_code == 302
    with scopes_disabled():
        subcontract.refresh_from_db()
    assert subcontract.notified_at is not None
    # The holder downloads the signed act.
    sign_in(client, company_member)
    pdf = client.get(holder_url("document", running, subcontract.document_id))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf["Content-Type"] == "application/pdf"


def test_the_panel_shows_the_current_terms_and_links(running, buyer, company, buyer_agent):
    execution.milestone_set(acting_user=buyer_agent, contract=running, title="Réception provisoire", due_on=today())
    html = render_to_string("contracts/execution/_panel.html", {"contract": running, "organisation": buyer})
    assert "Exécution du marché" in html and "Réception provisoire" in html
    assert buyer_url("overview", running) in html
    holder_html = render_to_string("contracts/execution/_panel.html", {"contract": running, "organisation": company})
    assert holder_url("overview", running) in holder_html
