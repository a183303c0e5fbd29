"""The minutes pages: generating, signing in turn through the forms, downloading; who sees what
(members of the commission and the buyer's staff only: 404 to anybody else, other buyers included)."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse

from ebourgogne.meetings import minutes as service
from ebourgogne.meetings.models import Minutes, MinutesSignature
from ebourgogne.meetings.tests.test_minutes_helpers import closed_meeting
from ebourgogne.organisations.roles import Role
from ebourgogne.signatures import services as signing
from ebourgogne.testing.factories import UserFactory, make_member, sign_in

pytestmark = pytest.mark.django_db

PASSPHRASE = "phrase secrète de signature du membre"


@pytest.fixture
def closed(buyer, buyer_agent):
    return closed_meeting(buyer, buyer_agent)


def url(name: str, closed) -> str:
    return reverse(f"meetings:{name}", args=[closed.meeting.organisation.slug, closed.meeting.pk])


def test_generate_sign_and_download_through_the_pages(client, closed):
    sign_in(client, closed.staff)
    page = client.get(url("minutes", closed))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Générer le procès-verbal" in body
    # The default choice: president and deliberative members present or remote, checked.
    assert body.count("checked") == 3
    answer = client.post(url("minutes_generate", closed), {"signers": []})
    assert answer.status_code == 400 and "au moins un signataire" in answer.content.decode()
    answer = client.post(url("minutes_generate", closed), {"signers": [closed.president.pk, closed.second.pk]})
    assert answer.status_code == 302
    minutes = Minutes.objects.get(meeting=closed.meeting)
    assert [row.user for row in service.signatures_of(minutes)] == [closed.president, closed.second]

    certificate = signing.certificate_issue(user=closed.president, passphrase=PASSPHRASE)
    second_certificate = signing.certificate_issue(user=closed.second, passphrase=PASSPHRASE)

    # The second signer is told it is not their turn yet, and gets no form.
    sign_in(client, closed.second)
    page = client.get(url("minutes", closed)).content.decode()
    assert "C'est au tour de Paul Président" in page
    assert 'name="secret"' not in page
    answer = client.post(url("minutes_sign", closed), {"certificate": second_certificate.pk, "secret": PASSPHRASE})
    assert answer.status_code == 409 and "pas encore votre tour" in answer.content.decode()

    sign_in(client, closed.president)
    page = client.get(url("minutes", closed)).content.decode()
    assert "C'est à vous de signer." in page and 'name="secret"' in page
    answer = client.post(url("minutes_sign", closed), {"certificate": certificate.pk, "secret": "pas la bonne phrase"})
    assert answer.status_code == 400
    assert "phrase secrète de signature est incorrecte" in answer.content.decode()
    assert "pas la bonne phrase" not in answer.content.decode()
    # Somebody else's certificate is not among the choices.
    answer = client.post(url("minutes_sign", closed), {"certificate": second_certificate.pk, "secret": PASSPHRASE})
    assert answer.status_code == 400
    assert not MinutesSignature.objects.filter(minutes=minutes, signed_at__isnull=False).exists()
    answer = client.post(url("minutes_sign", closed), {"certificate": certificate.pk, "secret": PASSPHRASE})
    assert answer.status_code == 302

    sign_in(client, closed.second)
    answer = client.post(url("minutes_sign", closed), {"certificate": second_certificate.pk, "secret": PASSPHRASE})
    assert answer.status_code == 302
    minutes.refresh_from_db()
    assert minutes.state == "signed"
    page = client.get(url("minutes", closed)).content.decode()
    assert "Signé et horodaté" in page
    assert page.count(">Valide<") == 3  # two signatures and the document timestamp, checked by pyHanko

    download = client.get(url("minutes_download", closed))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment;")
    assert "signe.pdf" in download["Content-Disposition"]
    data = b"".join(download.streaming_content)
    assert hashlib.sha256(data).hexdigest() == minutes.sha256


def test_a_member_cannot_generate(client, closed):
    sign_in(client, closed.second)
    page = client.get(url("minutes", closed)).content.decode()
    assert "Générer le procès-verbal" not in page
    answer = client.post(url("minutes_generate", closed), {"signers": [closed.president.pk]})
    assert answer.status_code == 403
    assert not Minutes.objects.exists()


def test_download_for_the_commission_and_the_staff_only(client, closed, buyer, other_buyer, outsider, company_admin):
    service.minutes_generate(meeting=closed.meeting, acting_user=closed.staff)
    download = url("minutes_download", closed)
    for allowed in (closed.staff, closed.president, closed.accountant, closed.fourth):
        sign_in(client, allowed)
        assert client.get(download).status_code == 200, allowed
    # A commission member of the same buyer, not on this commission; another buyer's administrator (with
    # our address and with theirs); a company: the minutes do not exist for them.
    strangers = [make_member(buyer, Role.COMMISSION_MEMBER, UserFactory()), outsider, company_admin]
    for stranger in strangers:
        sign_in(client, stranger)
        assert client.get(download).status_code == 404, stranger
        assert client.get(url("minutes", closed)).status_code == 404, stranger
    sign_in(client, outsider)
    foreign = reverse("meetings:minutes_download", args=[other_buyer.slug, closed.meeting.pk])
    assert client.get(foreign).status_code == 404
    client.logout()
    answer = client.get(download)
    assert answer.status_code == 302 and "login" in answer["Location"]


def test_minutes_of_an_open_session_cannot_be_generated(client, closed):
    from django_scopes import scopes_disabled

    from ebourgogne.meetings.models import Meeting

    with scopes_disabled():
        Meeting.objects.filter(pk=closed.meeting.pk).update(state="in_session")
    sign_in(client, closed.staff)
    assert "une fois la séance close" in client.get(url("minutes", closed)).content.decode()
    answer = client.post(url("minutes_generate", closed), {"signers": [closed.president.pk]})
    assert answer.status_code == 409
    assert client.get(url("minutes_download", closed)).status_code == 404
    assert not Minutes.objects.exists()
