"""Convening a commission: who is convened, the e-mails through the real SMTP test server in each language,
the invitation attached, delivery failures and retries, updates and cancellations, and the evidence."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
import time_machine
from django.db import transaction
from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError
from ebourgogne.meetings import convocations, evidence
from ebourgogne.meetings.models import Convocation, ConvocationEvent, Meeting, MeetingDocument, MeetingState
from ebourgogne.meetings.tests._convocation_helpers import (
    by_address,
    calendar_of,
    convene,
    convened_meeting,
    run_queue,
    seated_commission,
)
from ebourgogne.testing.meetings import add_item, make_meeting
from ebourgogne.timestamping import authority as tsa

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(convocation: Convocation) -> list[str]:
    return list(convocation.events.order_by("at", "id").values_list("kind", flat=True))


def test_convene_convenes_titulars_and_consultative_members_only(buyer):
    seated = seated_commission(buyer)
    meeting = convened_meeting(seated)
    with scopes_disabled():
        convened = {c.user: c for c in Convocation.objects.filter(meeting=meeting)}
    assert set(convened) == {*seated.titulars, seated.accountant}  # not the substitute, not the former member
    accountant = convened[seated.accountant]
    assert (accountant.voice, accountant.seat, accountant.language) == ("consultative", "titular", "en")
    titular = convened[seated.titulars[0]]
    assert (titular.voice, titular.seat, titular.language) == ("deliberative", "titular", "fr")
    assert all(c.sent_sequence == 0 and c.sent_at is not None for c in convened.values())
    assert all(kinds(c) == ["sent"] for c in convened.values())  # delivery waits for the queue


def test_a_member_is_never_convened_twice(buyer):
    seated = seated_commission(buyer)
    meeting = convened_meeting(seated)
    with pytest.raises(DomainError) as refused:
        convene(meeting)
    assert refused.value.code == "already_convened"
    assert "déjà convoqués" in str(refused.value.message)
    with scopes_disabled():
        assert Convocation.objects.filter(meeting=meeting).count() == 4
        # A member seated since is convened by convening again, the others are not sent anything twice.
        from ebourgogne.commissions.models import CommissionMember
        from ebourgogne.organisations.roles import Role
        from ebourgogne.testing.factories import UserFactory, make_member

        newcomer = make_member(buyer, Role.COMMISSION_MEMBER, UserFactory())
        CommissionMember.objects.create(commission=seated.commission, user=newcomer)
    assert convene(meeting) == 1
    with scopes_disabled():
        assert Convocation.objects.filter(meeting=meeting).count() == 5
        assert ConvocationEvent.objects.filter(convocation__meeting=meeting, kind="sent").count() == 5


def test_a_meeting_in_the_past_is_not_convened(buyer):
    seated = seated_commission(buyer)
    meeting = make_meeting(seated.commission, days=-1)
    with pytest.raises(DomainError) as refused:
        convene(meeting)
    assert refused.value.code == "past"
    assert not Convocation.objects.filter(meeting_id=meeting.pk).exists()


def test_nothing_is_sent_when_the_transaction_rolls_back(buyer, smtp_server):
    seated = seated_commission(buyer)
    meeting = make_meeting(seated.commission)
    add_item(meeting)
    with pytest.raises(RuntimeError), transaction.atomic():
        convocations.convene(meeting=meeting, acting_user=None)
        raise RuntimeError
    run_queue()
    assert smtp_server.messages == []
    assert not Convocation.objects.filter(meeting_id=meeting.pk).exists()


def test_emails_in_each_members_language_with_the_invitation(buyer, smtp_server, settings):
    seated = seated_commission(buyer)
    meeting = make_meeting(seated.commission, video_url="https://visio.exemple.test/cao-42")
    add_item(meeting, title="Ouverture des plis : travaux de voirie 2027")
    with scopes_disabled():
        MeetingDocument.objects.create(
            meeting=meeting,
            title="Rapport d'analyse des offres",
            original_name="rapport-analyse.pdf",
            storage_name="meetings/x/rapport.pdf",
            content_type="application/pdf",
            size=12345,
            sha256="0" * 64,
            uploaded_at=clock.now(),
        )
    convene(meeting)
    assert smtp_server.messages == []  # sent by the queue, after the commit
    run_queue()
    messages = by_address(smtp_server.wait_for(4))
    assert set(messages) == {user.email for user in [*seated.titulars, seated.accountant]}

    french = messages[seated.titulars[1].email]
    english = messages[seated.accountant.email]
    assert french["Subject"].startswith("Convocation : Séance de la ")
    assert english["Subject"].startswith("Convocation: Séance de la ")  # the meeting's own title is not translated
    assert french["Content-Language"] == "fr" and english["Content-Language"] == "en"
    assert french["Auto-Submitted"] == "auto-generated"
    local = meeting.starts_at.astimezone(clock.PARIS)
    french_text = french.get_body(("plain",)).get_content()
    english_text = english.get_body(("plain",)).get_content()
    assert "Vous êtes convoqué à la séance" in french_text and "voix délibérative" in french_text
    assert "You are convened to the meeting" in english_text and "consultative voice" in english_text
    assert f"{local.day} " in french_text and "à 14:00" in french_text
    assert "at 14:00" in english_text
    assert "Ouverture des plis : travaux de voirie 2027" in french_text
    assert "https://visio.exemple.test/cao-42" in french_text
    assert "Rapport d'analyse des offres (rapport-analyse.pdf)" in french_text
    # The documents are listed, never attached: the only attachment is the invitation.
    for message in (french, english):
        attachments = list(message.iter_attachments())
        assert [part.get_content_type() for part in attachments] == ["text/calendar"]
        ics_text, content_type = calendar_of(message)
        assert content_type.replace('"', "").lower() == "text/calendar; charset=utf-8; method=request"
        assert "METHOD:REQUEST" in ics_text and f"UID:{meeting.uid}" in ics_text
    # The personal link is in both bodies and opens that member's convocation.
    with scopes_disabled():
        convocation = Convocation.objects.get(meeting=meeting, user=seated.titulars[1])
    link = convocations.link_url(convocation).split("/seances/lien/")[0] + "/seances/lien/"
    token = french_text.split(link, 1)[1].split()[0].rstrip("/")
    assert convocations.read_link(token).pk == convocation.pk
    assert french.get_body(("html",)).get_content().count(f"{link}{token}/") == 1
    # The evidence: sent, one attempt, delivered, each with the digest of what was sent.
    with scopes_disabled():
        for convocation in Convocation.objects.filter(meeting=meeting):
            assert kinds(convocation) == ["sent", "delivery_attempt", "delivered"]
            assert convocation.delivered_at is not None
            sent = convocation.events.get(kind="sent")
            message = messages[convocation.user.email]
            ics_text, _ = calendar_of(message)
            received = re.sub(r"\r?\n", "\r\n", ics_text)  # the mail transport may change line ends only
            assert sent.detail["ics_sha256"] == hashlib.sha256(received.encode()).hexdigest()
            assert sent.detail["message_id"] == message["Message-ID"]
            assert convocations.delivery_state(convocation).delivery == "delivered"


def test_a_temporary_failure_is_retried_and_recorded(buyer, smtp_server):
    seated = seated_commission(buyer)
    meeting = convened_meeting(seated)
    smtp_server.refuse_next(1, code=451)
    run_queue()
    assert smtp_server.refused == 1
    smtp_server.wait_for(3)
    with scopes_disabled():
        rows = convocations.convocation_rows(meeting)
    retrying = [row for row in rows if row.delivery == "retrying"]
    assert len(retrying) == 1 and "451" in retrying[0].error and retrying[0].next_attempt_at
    assert [event.kind for event in retrying[0].events] == ["sent", "delivery_attempt", "delivery_failed"]
    assert retrying[0].events[-1].detail["permanent"] is False

    run_queue()  # too early: the retry waits a minute
    assert len(smtp_server.messages) == 3
    with time_machine.travel(clock.now() + dt.timedelta(minutes=2)):
        run_queue()
    smtp_server.wait_for(4)
    with scopes_disabled():
        convocation = retrying[0].convocation
        convocation.refresh_from_db()
        assert kinds(convocation) == ["sent", "delivery_attempt", "delivery_failed", "delivery_attempt", "delivered"]
        attempts = convocation.events.filter(kind="delivery_attempt").order_by("id")
        assert [event.detail["attempt"] for event in attempts] == [1, 2]
        assert convocations.delivery_state(convocation).delivery == "delivered"


def test_a_final_refusal_is_shown_as_not_delivered(buyer, smtp_server):
    seated = seated_commission(buyer)
    meeting = convened_meeting(seated)
    smtp_server.refuse_next(1, code=550, text="5.1.1 No such user")
    run_queue()
    smtp_server.wait_for(3)
    with scopes_disabled():
        rows = convocations.convocation_rows(meeting)
    failed = [row for row in rows if row.failed]
    assert len(failed) == 1
    assert failed[0].delivery_label == "Non remise" and "550" in failed[0].error
    assert failed[0].events[-1].detail["permanent"] is True
    assert sorted(row.delivery for row in rows) == ["delivered", "delivered", "delivered", "failed"]


def test_every_event_carries_a_verifiable_timestamp(buyer, smtp_server):
    seated = seated_commission(buyer)
    meeting = convened_meeting(seated)
    run_queue()
    smtp_server.wait_for(4)
    with scopes_disabled():
        events = list(ConvocationEvent.objects.filter(convocation__meeting=meeting))
    assert len(events) == 12
    for event in events:
        assert event.timestamp_token and event.timestamped_at is not None
        verified = evidence.verify_event(event)
        assert abs(verified.time - event.at) < dt.timedelta(seconds=2)
        payload = evidence.canonical_payload(event)
        assert payload["meeting"] == meeting.uid and payload["email"] == event.convocation.user.email
        assert payload["kind"] == event.kind and payload["convocation"] == event.convocation_id
    # A record changed afterwards no longer matches its evidence.
    tampered = events[0]
    tampered.detail = {**tampered.detail, "sequence": 7}
    with pytest.raises(tsa.TimestampInvalid):
        evidence.verify_event(tampered)
    # Nor does a token moved to another event.
    other = events[1]
    other.timestamp_token = events[2].timestamp_token
    with pytest.raises(tsa.TimestampInvalid):
        evidence.verify_event(other)


def test_events_are_kept_when_the_authority_is_down_and_stamped_later(buyer, smtp_server, monkeypatch):
    from ebourgogne.meetings.tasks import stamp_pending_events

    class Down(tsa.Authority):
        name = "down"

        def timestamp(self, digest: bytes) -> bytes:
            raise tsa.TimestampUnavailable("l'autorité ne répond pas")

    seated = seated_commission(buyer)
    real = tsa.get_authority()
    monkeypatch.setattr(tsa, "_current", Down())
    meeting = convened_meeting(seated)
    run_queue()
    smtp_server.wait_for(4)  # the mails leave all the same
    with scopes_disabled():
        assert ConvocationEvent.objects.filter(convocation__meeting=meeting).count() == 12
        assert ConvocationEvent.objects.filter(timestamp_token__isnull=True).count() == 12
    assert stamp_pending_events.call() == {"stamped": 0}  # still down: nothing lost, nothing stamped

    monkeypatch.setattr(tsa, "_current", real)
    assert stamp_pending_events.call() == {"stamped": 12}
    with scopes_disabled():
        for event in ConvocationEvent.objects.filter(convocation__meeting=meeting):
            evidence.verify_event(event)


def test_update_and_cancellation_keep_the_uid_and_raise_the_sequence(buyer, smtp_server):
    seated = seated_commission(buyer)
    meeting = convened_meeting(seated)
    run_queue()
    first = by_address(smtp_server.wait_for(4))
    smtp_server.clear()
    with scopes_disabled(), transaction.atomic():
        meeting.place = "Salle des commissions, Hôtel de ville de Beaune"
        meeting.starts_at = meeting.starts_at + dt.timedelta(hours=1)
        meeting.sequence += 1
        meeting.save()
        assert (
            convocations.send_update(
                meeting=meeting, acting_user=None, changes={"place": ["a", "b"], "starts_at": ["x", "y"]}
            )
            == 4
        )
    run_queue()
    updates = by_address(smtp_server.wait_for(4))
    smtp_server.clear()
    update = updates[seated.titulars[0].email]
    assert update["Subject"].startswith("Convocation modifiée : ")
    text = update.get_body(("plain",)).get_content()
    assert "Ce qui change :" in text and "Lieu : Salle des commissions, Hôtel de ville de Beaune" in text
    assert "à 15:00" in text
    english = updates[seated.accountant.email]
    assert english["Subject"].startswith("Convocation updated: ")
    english_text = english.get_body(("plain",)).get_content()
    assert "What changes:" in english_text and "Place: Salle des commissions, Hôtel de ville de Beaune" in english_text

    with scopes_disabled(), transaction.atomic():
        meeting.state = MeetingState.CANCELLED
        meeting.cancel_reason = "Dossier retiré"
        meeting.sequence += 1
        meeting.save()
        assert convocations.send_cancel(meeting=meeting, acting_user=None) == 4
    run_queue()
    cancels = by_address(smtp_server.wait_for(4))
    cancel = cancels[seated.titulars[0].email]
    assert cancel["Subject"].startswith("Séance annulée : ")
    assert "Motif : Dossier retiré" in cancel.get_body(("plain",)).get_content()

    for address in first:
        sequences = []
        for batch, method in ((first, "REQUEST"), (updates, "REQUEST"), (cancels, "CANCEL")):
            ics_text, content_type = calendar_of(batch[address])
            assert f"METHOD:{method}" in ics_text and f"method={method}" in content_type.replace('"', "")
            assert f"UID:{meeting.uid}" in ics_text
            sequences.append(int(ics_text.split("SEQUENCE:")[1].split()[0]))
        assert sequences == [0, 1, 2]
    with scopes_disabled():
        convocation = Convocation.objects.get(meeting=meeting, user=seated.titulars[0])
        assert [k for k in kinds(convocation) if k.endswith("sent")] == ["sent", "update_sent", "cancel_sent"]
        assert convocation.sent_sequence == 2


def test_meeting_services_call_the_convocations(buyer, buyer_agent, smtp_server):
    """Through H1's meeting services when they are there: convene, move, cancel."""
    services = pytest.importorskip("ebourgogne.meetings.services")
    seated = seated_commission(buyer)
    meeting = make_meeting(seated.commission, days=12)
    add_item(meeting)
    services.meeting_convene(acting_user=buyer_agent, meeting=meeting)
    run_queue()
    smtp_server.wait_for(4)
    with scopes_disabled():
        meeting = Meeting.objects.get(pk=meeting.pk)
        assert Convocation.objects.filter(meeting=meeting).count() == 4
    services.meeting_cancel(acting_user=buyer_agent, meeting=meeting, reason="Report")
    run_queue()
    messages = smtp_server.wait_for(8)
    assert sum("METHOD:CANCEL" in calendar_of(m)[0] for m in messages) == 4
