"""The lifecycle in time: one second before, at and after every deadline, the scheduler's closing job, and
deadlines around the daylight-saving changes of Europe/Paris."""

from __future__ import annotations

import datetime as dt
import html
import threading

import pytest
import time_machine
from django.db import connection
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.consultations import selectors, services
from ebourgogne.consultations.forms import paris_instant
from ebourgogne.consultations.models import Consultation, State
from ebourgogne.consultations.tasks import close_deadlines
from ebourgogne.core.scheduler import registered_jobs
from ebourgogne.testing.factories import ConsultationFactory
from ebourgogne.testing.sealing import buyer_opening_keys  # noqa: F401 - publication needs an opening commission

pytestmark = pytest.mark.usefixtures("buyer_opening_keys")

UTC = dt.UTC
SECOND = dt.timedelta(seconds=1)
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _publish(agent, buyer, *, bids, questions, reference="L-1", procedure="mapa"):
    consultation = services.consultation_create(
        acting_user=agent,
        organisation=buyer,
        reference=reference,
        title="Entretien de la voirie",
        object="Travaux d'entretien.",
        contract_type="works",
        procedure=procedure,
        main_cpv="45233141",
        contact_email="voirie@beaune.test",
        questions_deadline=questions,
        bids_deadline=bids,
    )
    return services.consultation_publish(acting_user=agent, consultation=consultation)


def _reload(consultation):
    with scopes_disabled():
        return Consultation.objects.get(pk=consultation.pk)


def _closed_events(consultation):
    return AuditEvent.objects.filter(action="consultation.closed", object_id=str(consultation.pk)).count()


def test_the_job_is_registered_every_minute():
    job = registered_jobs()["consultations.close_deadlines"]
    assert job.every == dt.timedelta(minutes=1)
    assert job.task is close_deadlines


@pytest.mark.django_db
def test_bid_deadline_one_second_before_at_and_after(client, buyer, buyer_agent):
    bids = dt.datetime(2026, 4, 15, 15, 0, tzinfo=UTC)  # 17:00 in Paris
    with time_machine.travel(START, tick=False) as clock:
        consultation = _publish(buyer_agent, buyer, bids=bids, questions=bids - dt.timedelta(days=5))
        public_url = reverse("consultations_public:detail", args=[consultation.pk])

        clock.move_to(bids - SECOND)
        current = _reload(consultation)
        assert current.effective_state == State.PUBLISHED and current.accepts_bids
        assert close_deadlines.call() == {"closed": 0}
        assert "En cours" in client.get(public_url).content.decode()
        with scopes_disabled():
            assert selectors.buyer_consultations(organisation=buyer, state="published").count() == 1
        with pytest.raises(Exception) as early:
            services.consultation_close(consultation=current)
        assert getattr(early.value, "code", "") == "deadline_not_passed"

        clock.move_to(bids)
        current = _reload(consultation)
        # Before the job runs, everyone already sees it closed: the deadline holds to the second.
        assert current.state == State.PUBLISHED and current.effective_state == State.CLOSED
        assert not current.accepts_bids
        assert "Clôturée" in client.get(public_url).content.decode()
        with scopes_disabled():
            assert selectors.buyer_consultations(organisation=buyer, state="closed").count() == 1
            assert selectors.buyer_consultations(organisation=buyer, state="published").count() == 0
            assert selectors.state_counts(organisation=buyer)["closed"] == 1
        with pytest.raises(Exception) as late:
            services.consultation_postpone_deadline(
                acting_user=buyer_agent, consultation=current, bids_deadline=bids + dt.timedelta(days=3), reason="x"
            )
        assert getattr(late.value, "code", "") == "not_postponable"
        assert close_deadlines.call() == {"closed": 1}
        current = _reload(consultation)
        assert current.state == State.CLOSED and current.closed_at == bids

        clock.move_to(bids + SECOND)
        assert close_deadlines.call() == {"closed": 0}  # idempotent
        assert _closed_events(consultation) == 1


@pytest.mark.django_db
def test_questions_deadline_one_second_before_at_and_after(buyer, buyer_agent):
    bids = dt.datetime(2026, 4, 15, 15, 0, tzinfo=UTC)
    questions = dt.datetime(2026, 4, 8, 10, 0, tzinfo=UTC)
    with time_machine.travel(START, tick=False) as clock:
        consultation = _publish(buyer_agent, buyer, bids=bids, questions=questions, procedure="open")
        assert consultation.last_answer_date == dt.datetime(2026, 4, 9, 15, 0, tzinfo=UTC)
        clock.move_to(questions - SECOND)
        assert _reload(consultation).accepts_questions
        clock.move_to(questions)
        assert not _reload(consultation).accepts_questions
        clock.move_to(questions + SECOND)
        current = _reload(consultation)
        assert not current.accepts_questions and current.accepts_bids
        # The questions deadline may move later while published, but never to a moment already past.
        with pytest.raises(services.InvalidData):
            services.consultation_update(
                acting_user=buyer_agent, consultation=current, questions_deadline=questions + SECOND
            )
        services.consultation_update(
            acting_user=buyer_agent, consultation=current, questions_deadline=dt.datetime(2026, 4, 9, 15, 0, tzinfo=UTC)
        )
        assert _reload(consultation).accepts_questions


@pytest.mark.django_db
def test_publication_one_second_before_at_and_after_the_bid_deadline(buyer, buyer_agent):
    bids = dt.datetime(2026, 4, 15, 15, 0, tzinfo=UTC)
    for offset, allowed in ((-SECOND, True), (dt.timedelta(0), False), (SECOND, False)):
        with time_machine.travel(bids + offset, tick=False):
            draft = services.consultation_create(
                acting_user=buyer_agent,
                organisation=buyer,
                reference=f"P{offset.total_seconds():+.0f}",
                title="T",
                object="O",
                contract_type="works",
                procedure="mapa",
                main_cpv="45000000",
                contact_name="C",
                questions_deadline=bids - dt.timedelta(hours=1) if allowed else None,
                bids_deadline=bids,
            )
            if allowed:
                # The questions deadline has passed too: refused for that, not for the bid deadline.
                with pytest.raises(services.InvalidData) as refused:
                    services.consultation_publish(acting_user=buyer_agent, consultation=draft)
                assert list(refused.value.errors) == ["questions_deadline"]
            else:
                with pytest.raises(services.InvalidData) as refused:
                    services.consultation_publish(acting_user=buyer_agent, consultation=draft)
                assert "bids_deadline" in refused.value.errors


# --- Daylight saving time ----------------------------------------------------------------------------


def test_paris_local_times_around_the_changes():
    spring = dt.date(2026, 3, 29)
    autumn = dt.date(2026, 10, 25)
    assert paris_instant(spring, dt.time(1, 59)) == dt.datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert paris_instant(spring, dt.time(3, 0)) == dt.datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    for missing in (dt.time(2, 0), dt.time(2, 30), dt.time(2, 59)):
        with pytest.raises(Exception) as refused:
            paris_instant(spring, missing)
        assert refused.value.code == "nonexistent"
    with pytest.raises(Exception) as ambiguous:
        paris_instant(autumn, dt.time(2, 30))
    assert ambiguous.value.code == "ambiguous"
    assert paris_instant(autumn, dt.time(2, 30), "summer") == dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert paris_instant(autumn, dt.time(2, 30), "winter") == dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert paris_instant(autumn, dt.time(3, 0)) == dt.datetime(2026, 10, 25, 2, 0, tzinfo=UTC)
    assert paris_instant(dt.date(2026, 7, 1), dt.time(17, 0), "winter") == dt.datetime(2026, 7, 1, 15, 0, tzinfo=UTC)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "bids",
    [
        dt.datetime(2026, 3, 29, 1, 30, tzinfo=UTC),  # 03:30 Paris, just after the spring change
        dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC),  # 02:30 Paris summer time (first of the two)
        dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC),  # 02:30 Paris winter time (second of the two)
    ],
)
def test_deadlines_across_dst_close_to_the_second(client, buyer, buyer_agent, bids):
    with time_machine.travel(bids - dt.timedelta(days=20), tick=False) as clock:
        consultation = _publish(buyer_agent, buyer, bids=bids, questions=bids - dt.timedelta(days=10))
        clock.move_to(bids - SECOND)
        assert _reload(consultation).effective_state == State.PUBLISHED
        assert close_deadlines.call() == {"closed": 0}
        clock.move_to(bids)
        assert _reload(consultation).effective_state == State.CLOSED
        assert close_deadlines.call() == {"closed": 1}
        clock.move_to(bids + SECOND)
        assert close_deadlines.call() == {"closed": 0}
        page = client.get(reverse("consultations_public:detail", args=[consultation.pk])).content.decode()
        expected = {
            3: "29/03/2026 à 03:30 (heure de Paris)",
            0: "25/10/2026 à 02:30 (heure de Paris, heure d'été, UTC+2)",
            1: "25/10/2026 à 02:30 (heure de Paris, heure d'hiver, UTC+1)",
        }[3 if bids.month == 3 else bids.hour]
        assert expected in html.unescape(page)


@pytest.mark.django_db
def test_r2132_6_across_the_autumn_change(buyer, buyer_agent):
    # Deadline Friday 30 October 2026 12:00 Paris (UTC+1) = 11:00 UTC. Six days before on the calendar is
    # Saturday 24 October 12:00 Paris (UTC+2) = 10:00 UTC; 6 × 24 h before is 11:00 UTC: 10:00 UTC is kept.
    bids = dt.datetime(2026, 10, 30, 11, 0, tzinfo=UTC)
    with time_machine.travel(dt.datetime(2026, 10, 1, tzinfo=UTC), tick=False):
        consultation = _publish(
            buyer_agent, buyer, bids=bids, questions=dt.datetime(2026, 10, 24, 10, 0, tzinfo=UTC), procedure="open"
        )
        assert consultation.last_answer_date == dt.datetime(2026, 10, 24, 10, 0, tzinfo=UTC)
        with pytest.raises(services.InvalidData):
            services.consultation_update(
                acting_user=buyer_agent,
                consultation=consultation,
                questions_deadline=dt.datetime(2026, 10, 24, 10, 0, 1, tzinfo=UTC),
            )


# --- Several nodes -----------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_closers_at_once_close_each_consultation_once(buyer):
    now = dt.datetime(2026, 4, 15, 15, 0, tzinfo=UTC)
    with scopes_disabled():
        consultations = [
            ConsultationFactory(
                organisation=buyer,
                state="published",
                published_at=now - dt.timedelta(days=30),
                questions_deadline=now - dt.timedelta(days=10),
                bids_deadline=now - dt.timedelta(minutes=index),
            )
            for index in range(6)
        ]
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def run():
        try:
            with time_machine.travel(now + SECOND, tick=False):
                results.append(services.close_due_consultations())
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with time_machine.travel(now + 2 * SECOND, tick=False):
        results.append(services.close_due_consultations())  # the next run: whatever a busy database left
    closed = sorted(pk for result in results for pk in result)
    assert closed == sorted(consultation.pk for consultation in consultations)
    for consultation in consultations:
        assert _reload(consultation).state == State.CLOSED
        assert _closed_events(consultation) == 1
