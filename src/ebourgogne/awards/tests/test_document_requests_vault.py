"""Supporting documents asked of the winner, and the company vault (R2143-13): a company that opened
its vault to the buyer for the consultation need not send again what is there. Both sides see it: the
company's letters page (with a link that preselects the consultation on its vault's access page) and
the buyer's decision section (with a link to the vault documents it may read)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.awards import selectors, services
from ebourgogne.core import clock
from ebourgogne.testing.awards import criteria
from ebourgogne.testing.factories import sign_in
from ebourgogne.vault import services as vault_services

pytestmark = pytest.mark.django_db

LINK_TEXT = "Ouvrir les pièces de mon coffre-fort à cet acheteur"


def _awarded_with_request(opened, user):
    services.evaluations_ensure(consultation=opened.consultation)
    evaluation = selectors.evaluations_of(opened.consultation)[0]
    for bid in opened.bids:
        services.admission_decide(acting_user=user, consultation=opened.consultation, bid=bid, decision="admitted")
    services.criteria_set(acting_user=user, evaluation=evaluation, **criteria(price=100, quality=[]))
    # The first company (the `company` fixture) gives the lowest price and wins.
    for row in selectors.evaluation_view(evaluation).rows:
        price = "100" if row.offer.bid_id == opened.bids[0].pk else "300"
        services.offer_set_price(acting_user=user, evaluation=evaluation, offer=row.offer, price=price)
    award = services.award_decide(acting_user=user, evaluation=evaluation, outcome="awarded")
    services.document_request(
        acting_user=user,
        award=award,
        items=["Extrait Kbis de moins de trois mois", "Attestation URSSAF"],
        deadline=clock.now() + dt.timedelta(days=10),
    )
    return evaluation


def test_the_vault_grant_shows_on_both_sides(client, opened, buyer, buyer_agent, company, company_admin, rivals):
    evaluation = _awarded_with_request(opened, buyer_agent)
    letters_url = reverse("awards_company:list", args=[company.slug])
    buyer_url = reverse("awards:evaluation", args=[buyer.slug, opened.consultation.pk, evaluation.pk])

    # Before any grant: the company is offered the link, the buyer reads that nothing was opened.
    sign_in(client, company_admin)
    page = client.get(letters_url).content.decode()
    assert "Attestation URSSAF" in page and LINK_TEXT in page
    link = reverse("vault:grants", args=[company.slug]) + f"?consultation={opened.consultation.pk}"
    assert link in page
    grants_page = client.get(link).content.decode()
    assert f'<option value="{opened.consultation.pk}" selected>' in grants_page

    sign_in(client, buyer_agent)
    page = client.get(buyer_url).content.decode()
    assert "Pièces justificatives demandées à l'attributaire" in page
    assert "ne vous a pas (encore) ouvert son coffre-fort" in page

    # A grant to the same buyer for ANOTHER consultation does not count; the right one does.
    with scopes_disabled():
        grant = vault_services.grant_create(
            acting_user=company_admin,
            company=company,
            consultation_id=opened.consultation.pk,
            all_documents=True,
            document_ids=[],
        )
    page = client.get(buyer_url).content.decode()
    assert "Coffre-fort ouvert" in page
    received = reverse("vault:received_detail", args=[buyer.slug, grant.pk])
    assert received in page
    assert client.get(received).status_code == 200

    sign_in(client, company_admin)
    page = client.get(letters_url).content.decode()
    assert "Coffre-fort ouvert à l'acheteur" in page and LINK_TEXT not in page

    # Revoked: back to "not opened".
    with scopes_disabled():
        vault_services.grant_revoke(acting_user=company_admin, company=company, grant=grant)
    sign_in(client, buyer_agent)
    assert "ne vous a pas (encore) ouvert son coffre-fort" in client.get(buyer_url).content.decode()


def test_a_member_who_cannot_grant_gets_no_link(client, opened, buyer_agent, company, company_member):
    _awarded_with_request(opened, buyer_agent)
    sign_in(client, company_member)
    page = client.get(reverse("awards_company:list", args=[company.slug])).content.decode()
    assert "Attestation URSSAF" in page and LINK_TEXT not in page


def test_an_unknown_or_foreign_consultation_in_the_link_preselects_nothing(client, opened, company, company_admin):
    sign_in(client, company_admin)
    for raw in ["999999", "abc", "1" * 40, ""]:
        response = client.get(reverse("vault:grants", args=[company.slug]) + f"?consultation={raw}")
        assert response.status_code == 200
        select = response.content.decode().split('id="grant_consultation"')[1].split("</select>")[0]
        assert '<option value="" selected>' in select and select.count(" selected>") == 1
