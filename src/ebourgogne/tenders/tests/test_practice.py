"""The practice consultation: created once, always open, never another company's bid, and a mock
opening of the company's own bid with the training key."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation, State
from ebourgogne.core import clock
from ebourgogne.core.errors import NotFound
from ebourgogne.organisations.roles import OrganisationKind
from ebourgogne.sealing.models import ConsultationKey, KeyState
from ebourgogne.tenders import practice
from ebourgogne.tenders.models import OpenedStatus
from ebourgogne.tenders.tests.opening_helpers import corrupt_zip, deposit, make_zip
from ebourgogne.testing.factories import CompanyFactory, make_member, sign_in

pytestmark = pytest.mark.django_db


def test_the_practice_consultation_is_made_once_owned_by_the_platform_and_always_open():
    consultation = practice.practice_consultation()
    assert practice.practice_consultation().pk == consultation.pk
    with scopes_disabled():
        assert Consultation.objects.filter(is_practice=True).count() == 1
        key = ConsultationKey.objects.get(consultation=consultation)
    assert consultation.organisation.kind == OrganisationKind.PLATFORM
    assert consultation.state == State.PUBLISHED and consultation.is_practice
    assert consultation.bids_deadline > clock.now() + dt.timedelta(days=25)
    assert key.is_practice and key.state == KeyState.RETAINED and key.retained_identity
    # A month and a half later, the deadline has moved on.
    with time_machine.travel(consultation.bids_deadline - dt.timedelta(days=2), tick=False):
        moved = practice.roll_practice_deadline()
        assert moved is not None and moved > clock.now() + dt.timedelta(days=25)
        assert practice.practice_consultation().bids_deadline == moved


def test_the_practice_consultation_is_not_in_the_portal_search(client):
    consultation = practice.practice_consultation()
    response = client.get("/consultations/", {"q": "entraînement"})
    assert response.status_code == 200
    assert f"/consultations/{consultation.pk}/" not in response.content.decode()


def test_mock_opening_of_the_company_own_bid(company, company_member):
    consultation = practice.practice_consultation()
    archive = make_zip({"memoire.txt": b"Memoire"})
    bid = deposit(consultation, company, [("offre.pdf.age", b"%PDF essai"), ("dossier.zip.age", archive)])
    result = practice.mock_opening(acting_user=company_member, company=company)
    assert result.bid.pk == bid.pk and result.ok
    sizes = {item.name: item.size for item in result.files}
    assert sizes == {"offre.pdf.age": len(b"%PDF essai"), "dossier.zip.age": len(archive)}
    assert all(item.hash_ok for item in result.files)


def test_mock_opening_reports_a_corrupt_zip(company, company_member):
    consultation = practice.practice_consultation()
    deposit(consultation, company, [("dossier.zip.age", corrupt_zip())])
    result = practice.mock_opening(acting_user=company_member, company=company)
    assert not result.ok
    assert result.files[0].status == OpenedStatus.CORRUPT_ZIP


def test_a_company_never_sees_another_company_practice_bid(client, company, company_member):
    consultation = practice.practice_consultation()
    rival = CompanyFactory(name="Concurrent SARL", slug="concurrent")
    rival_member = make_member(rival, "company_member")
    rival_bid = deposit(consultation, rival, [("secret.pdf.age", b"%PDF du concurrent")])
    with pytest.raises(NotFound):
        practice.mock_opening(acting_user=company_member, company=company)
    with pytest.raises(NotFound):
        practice.mock_opening(acting_user=company_member, company=company, bid_id=rival_bid.pk)
    with pytest.raises(NotFound):
        practice.mock_opening(acting_user=company_member, company=rival)  # not a member of the rival

    sign_in(client, company_member)
    index = client.get(reverse("tenders_practice:index"))
    assert index.status_code == 200
    assert "Concurrent SARL" not in index.content.decode()
    assert client.get(reverse("tenders_practice:mock_opening", args=[rival.slug])).status_code == 404
    response = client.post(reverse("tenders_practice:mock_opening", args=[company.slug]), {"bid": rival_bid.pk})
    assert response.status_code == 404
    assert "secret.pdf" not in response.content.decode()

    client.logout()
    sign_in(client, rival_member)
    response = client.post(reverse("tenders_practice:mock_opening", args=[rival.slug]), {"bid": rival_bid.pk})
    assert response.status_code == 200
    assert "secret.pdf.age" in response.content.decode()


def test_the_practice_pages(client, company, company_member):
    consultation = practice.practice_consultation()
    sign_in(client, company_member)
    index = client.get(reverse("tenders_practice:index"))
    assert company.name in index.content.decode()
    assert "Aucun pli d'entraînement déposé" in index.content.decode()
    new_bid = reverse("tenders_company:new", kwargs={"org_slug": company.slug, "consultation_pk": consultation.pk})
    assert new_bid in index.content.decode()
    deposit(consultation, company, [("offre.pdf.age", b"%PDF essai")])
    index = client.get(reverse("tenders_practice:index"))
    assert reverse("tenders_practice:mock_opening", args=[company.slug]) in index.content.decode()
    response = client.post(reverse("tenders_practice:mock_opening", args=[company.slug]))
    assert response.status_code == 200
    assert "Votre pli s'ouvre correctement" in response.content.decode()


def test_the_practice_consultation_has_no_buyer_opening_page(client, operator):
    consultation = practice.practice_consultation()
    sign_in(client, operator)
    url = reverse("tenders_opening:page", args=[consultation.organisation.slug, consultation.pk])
    assert client.get(url).status_code in (403, 404)


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(reverse("tenders_practice:index"))
    assert response.status_code == 302


def test_the_whole_practice_submission_through_the_real_api_then_the_mock_opening(client, company, company_member):
    """A bid uploaded in chunks and deposited through the tenders API on the practice consultation gets
    its receipt, then opens in the mock opening."""
    from ebourgogne.tenders.tests.support import full_bid

    consultation = practice.practice_consultation()
    with scopes_disabled():
        recipient = ConsultationKey.objects.get(consultation=consultation).recipient
    sign_in(client, company_member)
    receipt = full_bid(client, company.slug, consultation.pk, recipient)
    assert receipt
    response = client.post(reverse("tenders_practice:mock_opening", args=[company.slug]))
    assert response.status_code == 200
    text = response.content.decode()
    assert "Votre pli s'ouvre correctement" in text
    assert "identique" in text
