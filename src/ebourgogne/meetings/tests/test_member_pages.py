"""The member's pages: the personal link (opening recorded, sign-in, expiry, tampering, someone else's),
the meeting page with acknowledgement and answers, substitutes convened when represented, the list."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.meetings import convocations
from ebourgogne.meetings.models import Convocation, ConvocationEvent, Meeting, MeetingState
from ebourgogne.meetings.tests._convocation_helpers import calendar_of, convened_meeting, run_queue, seated_commission
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import UserFactory, make_member, sign_in
from ebourgogne.testing.sealing import opening_commission

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def seated(buyer):
    return seated_commission(buyer)


@pytest.fixture
def meeting(seated):
    return convened_meeting(seated)


def convocation_of(meeting, user) -> Convocation:
    with scopes_disabled():
        return Convocation.objects.get(meeting=meeting, user=user)


def link_path(convocation: Convocation) -> str:
    return reverse("meetings_member:link", args=[convocations.link_token(convocation)])


def openings(convocation: Convocation) -> list[dict]:
    return [event.detail for event in ConvocationEvent.objects.filter(convocation=convocation, kind="opened")]


def test_the_link_records_the_opening_then_asks_to_sign_in_and_comes_back(client, seated, meeting):
    convocation = convocation_of(meeting, seated.titulars[1])
    path = link_path(convocation)
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
    assert "next=" in response["Location"]
    assert [detail["signed_in"] for detail in openings(convocation)] == [False]
    convocation.refresh_from_db()
    assert convocation.opened_at is not None

    sign_in(client, seated.titulars[1])
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == reverse("meetings_member:detail", args=[meeting.pk])
    assert [detail["signed_in"] for detail in openings(convocation)] == [False, True]
    client.get(path)  # a reload within minutes is the same opening
    assert len(openings(convocation)) == 2
    page = client.get(response["Location"])
    assert page.status_code == 200
    content = html.unescape(page.content.decode())
    assert "Ouverture des plis : travaux de voirie 2027" in content and "J'accuse réception" in content


def test_a_tampered_link_gets_a_clear_page(client, seated, meeting):
    convocation = convocation_of(meeting, seated.titulars[1])
    token = convocations.link_token(convocation)
    for bad in (token[:-3] + "abc", "n-importe-quoi", token.replace(":", "", 1)):
        response = client.get(reverse("meetings_member:link", args=[bad]))
        assert response.status_code == 400
        assert "Ce lien n&#x27;est pas valide" in response.content.decode()
    assert openings(convocation) == []


def test_an_expired_link_gets_a_clear_page(client, seated, meeting):
    convocation = convocation_of(meeting, seated.titulars[1])
    path = link_path(convocation)
    end = meeting.starts_at + dt.timedelta(hours=2)
    with time_machine.travel(end + convocations.LINK_VALID_AFTER - dt.timedelta(minutes=1)):
        assert client.get(path).status_code == 302  # still valid the day before it expires
    with time_machine.travel(end + convocations.LINK_VALID_AFTER + dt.timedelta(minutes=1)):
        response = client.get(path)
    assert response.status_code == 410
    assert "Ce lien a expiré" in response.content.decode()


def test_someone_elses_link_is_refused(client, buyer, seated, meeting):
    convocation = convocation_of(meeting, seated.titulars[1])
    sign_in(client, seated.titulars[2])  # a member of the same commission
    response = client.get(link_path(convocation))
    assert response.status_code == 403 and "envoyé à un autre membre" in response.content.decode()
    other = opening_commission(buyer, members=1, is_default=False).members[0]  # another commission
    sign_in(client, other)
    assert client.get(link_path(convocation)).status_code == 403
    assert client.get(reverse("meetings_member:detail", args=[meeting.pk])).status_code == 404
    assert client.post(reverse("meetings_member:acknowledge", args=[meeting.pk])).status_code == 404
    assert openings(convocation) == []
    convocation.refresh_from_db()
    assert convocation.opened_at is None and convocation.acknowledged_at is None


def test_pages_need_signing_in(client, meeting):
    for name in ("list", "detail", "calendar"):
        args = [] if name == "list" else [meeting.pk]
        response = client.get(reverse(f"meetings_member:{name}", args=args))
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_acknowledge_and_answer(client, seated, meeting):
    member = seated.titulars[1]
    sign_in(client, member)
    url = reverse("meetings_member:acknowledge", args=[meeting.pk])
    assert client.post(url).status_code == 302
    response = client.post(url, follow=True)
    assert response.status_code == 400 and "déjà accusé réception" in response.content.decode()
    convocation = convocation_of(meeting, member)
    assert convocation.acknowledged_at is not None

    answer = reverse("meetings_member:answer", args=[meeting.pk])
    assert client.post(answer, {"response": "remote"}).status_code == 302
    assert client.post(answer, {"response": "absent"}).status_code == 302  # may change until the session opens
    bad = client.post(answer, {"response": "peut-être"})
    assert bad.status_code == 400 and "Choisissez une des réponses proposées" in bad.content.decode()
    convocation.refresh_from_db()
    assert convocation.response == "absent"
    answers = ConvocationEvent.objects.filter(convocation=convocation, kind="answered").order_by("id")
    assert [(e.detail["previous"], e.detail["response"]) for e in answers] == [
        ("pending", "remote"),
        ("remote", "absent"),
    ]
    assert all(e.timestamp_token for e in answers)
    # A titular without a substitute cannot be represented: a clear message, nothing changed.
    refused = client.post(answer, {"response": "represented"})
    assert refused.status_code == 400 and "Aucun suppléant ne peut vous représenter" in refused.content.decode()
    convocation.refresh_from_db()
    assert convocation.response == "absent"

    with scopes_disabled():
        Meeting.objects.filter(pk=meeting.pk).update(state=MeetingState.IN_SESSION)
    closed = client.post(answer, {"response": "present"})
    assert closed.status_code == 400 and "relevée en séance" in closed.content.decode()


def test_represented_convenes_the_substitute_and_changing_back_releases_them(client, seated, meeting, smtp_server):
    run_queue()
    smtp_server.wait_for(4)
    smtp_server.clear()
    titular = seated.titulars[0]
    sign_in(client, titular)
    answer = reverse("meetings_member:answer", args=[meeting.pk])
    response = client.post(answer, {"response": "represented"}, follow=True)
    assert "votre suppléant, est convoqué à votre place" in response.content.decode()
    titular_convocation = convocation_of(meeting, titular)
    substitute = convocation_of(meeting, seated.substitute)
    assert substitute.replaces_id == titular_convocation.pk and substitute.seat == "substitute"
    assert titular_convocation.acknowledged_at is not None  # answering acknowledges
    run_queue()
    [mail] = smtp_server.wait_for(1)
    assert mail["To"] == seated.substitute.email
    assert mail["Subject"].startswith("Convocation (suppléance) : ")
    assert "comme suppléant de" in mail.get_body(("plain",)).get_content()
    ics_text, _ = calendar_of(mail)
    assert "METHOD:REQUEST" in ics_text and f"UID:{meeting.uid}" in ics_text

    # The substitute cannot be represented in turn.
    sign_in(client, seated.substitute)
    refused = client.post(answer, {"response": "represented"})
    assert refused.status_code == 400 and "comme suppléant" in refused.content.decode()

    # The titular comes after all: the substitute's convocation is cancelled (METHOD:CANCEL).
    smtp_server.clear()
    sign_in(client, titular)
    assert client.post(answer, {"response": "present"}).status_code == 302
    substitute.refresh_from_db()
    assert substitute.cancelled_at is not None
    run_queue()
    [cancel] = smtp_server.wait_for(1)
    assert cancel["To"] == seated.substitute.email and "METHOD:CANCEL" in calendar_of(cancel)[0]
    # And represented again: the same substitute is convened again.
    assert client.post(answer, {"response": "represented"}).status_code == 302
    substitute.refresh_from_db()
    assert substitute.cancelled_at is None and substitute.replaces_id == titular_convocation.pk


def test_the_list_shows_upcoming_and_past_meetings(client, seated, meeting):
    member = seated.titulars[1]
    sign_in(client, member)
    response = client.get(reverse("meetings_member:list"))
    assert response.status_code == 200
    upcoming = html.unescape(response.content.decode()).split("Passées")[0]
    assert meeting.title in upcoming and "accusé de réception attendu" in upcoming
    with time_machine.travel(meeting.starts_at + dt.timedelta(days=1)):
        sign_in(client, member)
        later = html.unescape(client.get(reverse("meetings_member:list")).content.decode())
    assert meeting.title in later.split("Passées")[1]


def test_the_documents_are_listed_with_the_buyers_download_link(client, seated, meeting):
    from ebourgogne.meetings.models import MeetingDocument

    with scopes_disabled():
        document = MeetingDocument.objects.create(
            meeting=meeting,
            title="Rapport d'analyse des offres",
            original_name="rapport.pdf",
            storage_name="meetings/x/rapport.pdf",
            size=2048,
            sha256="0" * 64,
            uploaded_at=clock.now(),
        )
    sign_in(client, seated.titulars[1])
    content = html.unescape(client.get(reverse("meetings_member:detail", args=[meeting.pk])).content.decode())
    url = reverse("meetings:document_download", args=[meeting.organisation.slug, meeting.pk, document.pk])
    assert f'<a href="{url}">Rapport d\'analyse des offres</a>' in content


def test_the_calendar_download(client, seated, meeting):
    sign_in(client, seated.accountant)
    response = client.get(reverse("meetings_member:calendar", args=[meeting.pk]))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    text = response.content.decode()
    assert f"UID:{meeting.uid}" in text and "mailto:jordan@example.test" in text


def test_a_stranger_sees_nothing(client, buyer, meeting):
    stranger = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory())
    sign_in(client, stranger)
    assert client.get(reverse("meetings_member:detail", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("meetings_member:calendar", args=[meeting.pk])).status_code == 404
    assert client.post(reverse("meetings_member:answer", args=[meeting.pk]), {"response": "present"}).status_code == 404
    assert meeting.title not in html.unescape(client.get(reverse("meetings_member:list")).content.decode())
    assert clock.now() < meeting.starts_at
