"""The bid pages: the company's list, bid page, deposit with confirmation and result; the buyer's register
before and after the deadline; the public entry."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.tenders.models import Bid
from ebourgogne.tenders.tests.support import announce, create_bid, full_bid, open_consultation, sealed, upload
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db
ORG = "menuiserie-bourguignonne"


def _ready_bid(client, consultation, recipient) -> int:
    bid = create_bid(client, ORG, consultation.pk)
    data = sealed(recipient, 2000)
    upload(client, announce(client, ORG, bid["id"], len(data))["url"], data)
    return bid["id"]


def test_deposit_through_the_pages(client, buyer, company, company_member):
    consultation, recipient = open_consultation(buyer)
    sign_in(client, company_member)
    bid_id = _ready_bid(client, consultation, recipient)
    page = client.get(reverse("tenders_company:bid", args=[ORG, bid_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "Seule compte la fin de l'envoi" in html and "offre.pdf" in html
    confirm_url = reverse("tenders_company:deposit", args=[ORG, bid_id])
    assert client.get(confirm_url).status_code == 200
    refused = client.post(confirm_url, {})
    assert refused.status_code == 400 and "Cochez la case" in refused.content.decode()
    response = client.post(confirm_url, {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("tenders_company:result", args=[ORG, bid_id])
    result = client.get(response["Location"]).content.decode()
    assert "Pli déposé" in result and "EB-" in result
    assert reverse("tenders_receipts:pdf", kwargs={"org_slug": ORG, "bid_pk": bid_id}) in result
    assert reverse("tenders_receipts:json", kwargs={"org_slug": ORG, "bid_pk": bid_id}) in result
    listing = client.get(reverse("tenders_company:list", args=[ORG])).content.decode()
    assert consultation.reference in listing and "Déposé" in listing


def test_late_is_said_before_and_after(client, buyer, company, company_member):
    consultation, recipient = open_consultation(buyer)
    sign_in(client, company_member)
    bid_id = _ready_bid(client, consultation, recipient)
    with time_machine.travel(consultation.bids_deadline, tick=False):
        page = client.get(reverse("tenders_company:bid", args=[ORG, bid_id])).content.decode()
        assert "sera conservé comme pli hors délai" in page
        client.post(reverse("tenders_company:deposit", args=[ORG, bid_id]), {"confirm": "on"})
        result = client.get(reverse("tenders_company:result", args=[ORG, bid_id])).content.decode()
    assert "Pli reçu hors délai" in result
    with scopes_disabled():
        assert Bid.objects.get(pk=bid_id).is_late


def test_remove_file_page(client, buyer, company, company_member):
    consultation, recipient = open_consultation(buyer)
    sign_in(client, company_member)
    bid_id = _ready_bid(client, consultation, recipient)
    with scopes_disabled():
        bid_file = Bid.objects.get(pk=bid_id).files.get()
    url = reverse("tenders_company:file_remove", args=[ORG, bid_id, bid_file.upload_id])
    assert client.post(url).status_code == 302
    with scopes_disabled():
        assert not Bid.objects.get(pk=bid_id).files.exists()


def test_new_bid_page_with_lots(client, buyer, company, company_member):
    from ebourgogne.testing.factories import LotFactory

    consultation, _recipient = open_consultation(buyer)
    with scopes_disabled():
        LotFactory(consultation=consultation, number=1, title="Gros œuvre")
        LotFactory(consultation=consultation, number=2, title="Menuiseries")
    sign_in(client, company_member)
    url = reverse("tenders_company:new", args=[ORG, consultation.pk])
    assert "Menuiseries" in client.get(url).content.decode()
    response = client.post(url, {"kind": "bid", "lots": ["2"]})
    assert response.status_code == 302
    with scopes_disabled():
        bid = Bid.objects.get()
        assert list(bid.lots.values_list("number", flat=True)) == [2]


def test_public_block_and_entry(client, buyer, company, company_member, django_assert_num_queries):
    from django.template import Context, Template

    consultation, _recipient = open_consultation(buyer)
    template = Template("{% load tenders_public %}{% tenders_public_block consultation %}")
    with django_assert_num_queries(0):
        html = template.render(Context({"consultation": consultation}))
    assert "Déposer un pli" in html and f"/consultations/{consultation.pk}/depot/" in html
    entry = reverse("tenders_public:entry", args=[consultation.pk])
    anonymous = client.get(entry)
    assert anonymous.status_code == 302 and reverse("account_login") in anonymous["Location"]
    sign_in(client, company_member)
    one_company = client.get(entry)
    assert one_company["Location"] == reverse("tenders_company:new", args=[ORG, consultation.pk])


def test_entry_refuses_a_company_of_someone_else(client, buyer, company, outsider, other_company):
    consultation, _recipient = open_consultation(buyer)
    sign_in(client, outsider)
    page = client.get(reverse("tenders_public:entry", args=[consultation.pk]))
    assert page.status_code == 200 and "membre d'une entreprise" in page.content.decode()
    assert (
        client.post(
            reverse("tenders_public:entry", args=[consultation.pk]), {"company": other_company.slug}
        ).status_code
        == 404
    )


def test_buyer_sees_only_a_count_before_the_deadline(client, buyer, company, company_member, buyer_agent, other_buyer):
    from ebourgogne.organisations.roles import Role
    from ebourgogne.testing.factories import make_member

    consultation, recipient = open_consultation(buyer)
    sign_in(client, company_member)
    full_bid(client, ORG, consultation.pk, recipient, seed=1)
    full_bid(client, ORG, consultation.pk, recipient, seed=2)
    sign_in(client, buyer_agent)
    url = reverse("tenders_buyer:register", args=[buyer.slug, consultation.pk])
    before = client.get(url).content.decode()
    assert "2 dépôts reçus" in before and "Menuiserie" not in before and "EB-" not in before
    csv_before = client.get(reverse("tenders_buyer:register_csv", args=[buyer.slug, consultation.pk]))
    assert csv_before.status_code == 302
    with time_machine.travel(consultation.bids_deadline, tick=False):
        after = client.get(url).content.decode()
        csv_after = client.get(reverse("tenders_buyer:register_csv", args=[buyer.slug, consultation.pk]))
    assert "Menuiserie Bourguignonne" in after and "Remplacé par le dépôt n° 2" in after
    assert "Aucun incident" in after
    with scopes_disabled():
        first = Bid.objects.get(consultation=consultation, number=1)
    paris = first.deposited_at.astimezone(clock.PARIS)
    assert paris.strftime("%d/%m/%Y %H:%M:%S") in after  # Europe/Paris, to the second
    rows = csv_after.content.decode("utf-8-sig").splitlines()
    assert len(rows) == 3 and rows[1].startswith("1;Menuiserie Bourguignonne")
    stranger = make_member(other_buyer, Role.BUYER_ADMIN)
    sign_in(client, stranger)
    assert client.get(url).status_code == 404
    assert client.get(reverse("tenders_buyer:register", args=[other_buyer.slug, consultation.pk])).status_code == 404


def test_buyer_block_counts_only(rf, buyer, buyer_agent, company, company_member, client):
    from django.template import Context, Template

    consultation, recipient = open_consultation(buyer)
    sign_in(client, company_member)
    full_bid(client, ORG, consultation.pk, recipient)
    request = rf.get("/")
    request.organisation_roles = {"buyer_agent"}
    html = Template("{% load tenders_buyer %}{% tenders_buyer_block consultation %}").render(
        Context({"consultation": consultation, "request": request})
    )
    assert "1 dépôt reçu" in html and "Menuiserie" not in html
    assert reverse("tenders_buyer:register", args=[buyer.slug, consultation.pk]) in html


def test_incident_admin_for_operators_only(client, operator, company_member):
    from ebourgogne.tenders.models import Incident

    url = reverse("admin:tenders_incident_add")
    sign_in(client, company_member)
    assert client.get(url).status_code == 302  # not staff: sent to the admin login
    sign_in(client, operator)
    response = client.post(url, {"started_at_0": "2026-11-28", "started_at_1": "10:00:00", "description": "Lenteurs"})
    assert response.status_code == 302, response.content[:2000]
    with scopes_disabled():
        assert Incident.objects.get().recorded_by == operator


def test_register_shows_incidents_near_the_deadline(client, buyer, buyer_agent):
    import datetime as dt

    from ebourgogne.tenders.models import Incident

    consultation, _recipient = open_consultation(buyer)
    deadline = consultation.bids_deadline
    with scopes_disabled():
        Incident.objects.create(started_at=deadline - dt.timedelta(minutes=20), description="Lenteurs du stockage")
        Incident.objects.create(
            started_at=deadline - dt.timedelta(days=5),
            ended_at=deadline - dt.timedelta(days=4),
            description="Maintenance ancienne",
        )
    sign_in(client, buyer_agent)
    url = reverse("tenders_buyer:register", args=[buyer.slug, consultation.pk])
    assert "Lenteurs du stockage" not in client.get(url).content.decode()  # before the deadline: nothing
    with time_machine.travel(deadline, tick=False):
        page = client.get(url).content.decode()
    assert "Lenteurs du stockage" in page and "Maintenance ancienne" not in page


def test_deposit_page_with_an_unfinished_file_says_why(client, buyer, company, company_member):
    consultation, recipient = open_consultation(buyer)
    sign_in(client, company_member)
    bid = create_bid(client, ORG, consultation.pk)
    data = sealed(recipient, 3000)
    url = announce(client, ORG, bid["id"], len(data))["url"]
    upload(client, url, data[:1000])  # a third of it
    confirm_url = reverse("tenders_company:deposit", args=[ORG, bid["id"]])
    assert "ne peut pas encore être déposé" in client.get(confirm_url).content.decode()
    response = client.post(confirm_url, {"confirm": "on"})
    assert response.status_code == 400 and "offre.pdf" in response.content.decode()
    with scopes_disabled():
        assert Bid.objects.get(pk=bid["id"]).state == "draft"


def test_numbers_too_large_for_a_row_are_404(client, buyer, company, company_member, buyer_agent):
    huge = 10**20
    sign_in(client, company_member)
    assert client.get(reverse("tenders_company:bid", args=[ORG, huge])).status_code == 404
    assert client.get(reverse("tenders_company:new", args=[ORG, huge])).status_code == 404
    assert client.get(reverse("tenders_public:entry", args=[huge])).status_code == 404
    sign_in(client, buyer_agent)
    assert client.get(reverse("tenders_buyer:register", args=[buyer.slug, huge])).status_code == 404
    assert client.get(f"/api/v1/buyers/{buyer.slug}/consultations/{huge}/bids").status_code == 404
