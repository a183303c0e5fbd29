"""The opening pages and API: what the buyer sees before, during and after the opening, the form with
real shares, the opened files and the PDF report, and tenant isolation."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.tenders.models import OpenedFile, Opening, OpeningState
from ebourgogne.tenders.tests.opening_helpers import deposit, run_jobs
from ebourgogne.testing.factories import ConsultationFactory, sign_in
from ebourgogne.testing.sealing import give_test_key, sealed_consultation

pytestmark = pytest.mark.django_db


@pytest.fixture
def sealed(buyer, company):
    sealed = sealed_consultation(buyer)
    deposit(sealed.consultation, company, [("offre.pdf.age", b"%PDF offre de la menuiserie")])
    return sealed


def _url(consultation, name="page", *args):
    return reverse(f"tenders_opening:{name}", args=[consultation.organisation.slug, consultation.pk, *args])


def _after(consultation):
    return time_machine.travel(consultation.bids_deadline + dt.timedelta(hours=1), tick=False)


def test_before_the_deadline_the_page_gives_the_number_of_deposits_only(client, sealed, buyer_agent, company):
    sign_in(client, buyer_agent)
    response = client.get(_url(sealed.consultation))
    assert response.status_code == 200
    text = response.content.decode()
    assert "1 dépôt reçu" in text
    assert company.name not in text
    assert "passphrase-" not in text
    api = client.get(
        f"/api/v1/buyers/{sealed.consultation.organisation.slug}/consultations/{sealed.consultation.pk}/opening"
    )
    assert api.json() == {
        "consultation": sealed.consultation.pk,
        "deadline_passed": False,
        "deposits": 1,
        "openings": [],
    }


def test_the_form_opens_with_k_passphrases_and_shows_the_report(
    client, sealed, company, django_capture_on_commit_callbacks
):
    consultation = sealed.consultation
    member, second, _third = sealed.commission.members
    with _after(consultation):
        sign_in(client, member)
        page = client.get(_url(consultation))
        assert page.status_code == 200
        assert f'name="passphrase-{member.pk}"' in page.content.decode()
        form = {
            f"passphrase-{member.pk}": sealed.commission.passphrase(member),
            f"passphrase-{second.pk}": sealed.commission.passphrase(second),
        }
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(_url(consultation, "start"), form)
        assert response.status_code == 302
        with scopes_disabled():
            opening = Opening.objects.get(consultation=consultation)
        running = client.get(_url(consultation, "progress"))
        assert "Ouverture en cours" in running.content.decode()
        run_jobs(opening)
        page = client.get(_url(consultation))
    assert opening.state == OpeningState.DONE
    text = page.content.decode()
    assert company.name in text
    with scopes_disabled():
        opened = OpenedFile.objects.get(opening=opening)
    sign_in(client, member)
    download = client.get(_url(consultation, "download", opened.pk))
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"%PDF offre de la menuiserie"
    assert 'filename="offre.pdf"' in download["Content-Disposition"]
    pdf = client.get(_url(consultation, "report_pdf", opening.pk))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    api_url = f"/api/v1/buyers/{consultation.organisation.slug}/consultations/{consultation.pk}/opening"
    with _after(consultation):
        sign_in(client, member)
        body = client.get(api_url).json()
    assert body["openings"][0]["state"] == "done"
    assert body["openings"][0]["report"]["opened"][0]["company"] == company.name


def test_a_form_with_one_passphrase_is_refused_with_a_clear_message(client, sealed):
    consultation = sealed.consultation
    member = sealed.commission.members[0]
    with _after(consultation):
        sign_in(client, member)
        response = client.post(
            _url(consultation, "start"), {f"passphrase-{member.pk}": sealed.commission.passphrase(member)}
        )
    assert response.status_code == 400
    assert "phrases secrètes de 2 membres" in response.content.decode()
    with scopes_disabled():
        assert not Opening.objects.filter(consultation=consultation).exists()


def test_another_buyer_and_a_company_see_nothing(client, sealed, outsider, company_member):
    consultation = sealed.consultation
    for user in (outsider, company_member):
        client.logout()
        sign_in(client, user)
        assert client.get(_url(consultation)).status_code == 404
        api = f"/api/v1/buyers/{consultation.organisation.slug}/consultations/{consultation.pk}/opening"
        assert client.get(api).status_code == 404


def test_opened_files_are_served_only_under_their_own_consultation(client, buyer, other_buyer, company, buyer_agent):
    consultation = ConsultationFactory(organisation=buyer, published=True)
    identity = give_test_key(consultation)
    deposit(consultation, company, [("offre.pdf.age", b"%PDF")])
    other = ConsultationFactory(organisation=buyer, published=True)
    from ebourgogne.tenders import opening as service

    with _after(consultation):
        opening = run_jobs(
            service.opening_begin(
                acting_user=buyer_agent, consultation=consultation, identity=identity, members=[buyer_agent]
            )
        )
    with scopes_disabled():
        opened = OpenedFile.objects.get(opening=opening)
    sign_in(client, buyer_agent)
    assert client.get(_url(consultation, "download", opened.pk)).status_code == 200
    assert client.get(_url(other, "download", opened.pk)).status_code == 404
