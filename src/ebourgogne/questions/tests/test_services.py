"""Questions, answers and information through the services: deadlines to the second, R2132-6, numbering,
edits kept, bad input, rights."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from django.db import connection, connections
from django_scopes import scopes_disabled
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebourgogne.audit.models import AuditEvent
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import Role
from ebourgogne.questions import selectors, services
from ebourgogne.questions.models import AnswerRevision, Kind, Question
from ebourgogne.testing.factories import CompanyFactory, ConsultationFactory, make_member, make_operator

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consultation(buyer):
    return ConsultationFactory(
        organisation=buyer,
        published=True,
        questions_deadline=NOW + dt.timedelta(days=10),
        bids_deadline=NOW + dt.timedelta(days=20),
    )


def ask(user, company, consultation, text="Le lot 2 comprend-il la dépose des menuiseries existantes ?"):
    return services.question_ask(acting_user=user, company=company, consultation=consultation, text=text)


def questions_of(consultation):
    with scopes_disabled():
        return list(Question.objects.filter(consultation=consultation).order_by("number"))


# --- Asking -----------------------------------------------------------------------------------------


def test_a_company_member_asks_and_questions_are_numbered_per_consultation(
    consultation, buyer, company, company_member, company_admin
):
    first = ask(company_member, company, consultation)
    second = ask(company_admin, company, consultation, "Une visite du site est-elle prévue ?")
    other = ask(company_member, company, ConsultationFactory(organisation=buyer, published=True))
    assert (first.number, second.number, other.number) == (1, 2, 1)
    assert first.asker_organisation == company and first.asked_by == company_member
    assert first.asker_email == company_member.email and first.asked_at == NOW and first.published_at is None
    event = AuditEvent.objects.get(action="questions.question.asked", object_id=str(first.pk))
    assert event.organisation_id == buyer.pk and event.actor_id == company_member.pk
    assert event.data["company"] == company.pk and event.data["number"] == 1


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [(dt.timedelta(seconds=-1), True), (dt.timedelta(0), False), (dt.timedelta(seconds=1), False)],
    ids=["one-second-before", "at-the-deadline", "one-second-after"],
)
def test_questions_deadline_to_the_second(frozen, consultation, company, company_member, offset, accepted):
    frozen.move_to(consultation.questions_deadline + offset)
    if accepted:
        assert ask(company_member, company, consultation).number == 1
    else:
        with pytest.raises(DomainError, match="date limite des questions est passée") as refused:
            ask(company_member, company, consultation)
        assert refused.value.code == "questions_closed"
        assert questions_of(consultation) == []


def test_without_a_questions_deadline_the_bid_deadline_closes_questions(frozen, buyer, company, company_member):
    consultation = ConsultationFactory(organisation=buyer, published=True, questions_deadline=None)
    frozen.move_to(consultation.bids_deadline - dt.timedelta(seconds=1))
    ask(company_member, company, consultation)
    frozen.move_to(consultation.bids_deadline)
    with pytest.raises(DomainError):
        ask(company_member, company, consultation)


def test_no_question_on_a_draft_nor_on_a_consultation_no_longer_in_progress(buyer, company, company_member):
    draft = ConsultationFactory(organisation=buyer)
    with pytest.raises(NotFound):
        ask(company_member, company, draft)
    for state in ("closed", "cancelled", "awarded"):
        ended = ConsultationFactory(organisation=buyer, published=True, state=state)
        with pytest.raises(DomainError, match="n'est plus en cours") as refused:
            ask(company_member, company, ended)
        assert refused.value.code == "questions_closed"
    with scopes_disabled():
        assert not Question.objects.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Écrivez votre question"),
        ("   \n\t ", "Écrivez votre question"),
        ("\x00\x01", "Écrivez votre question"),
        ("x" * (services.QUESTION_MAX_LENGTH + 1), "ne peut pas dépasser 5000 caractères"),
    ],
    ids=["empty", "blank", "control-characters", "oversized"],
)
def test_bad_questions_are_refused_and_nothing_is_stored(consultation, company, company_member, text, message):
    with pytest.raises(DomainError, match=message):
        ask(company_member, company, consultation, text)
    assert questions_of(consultation) == []
    assert not AuditEvent.objects.filter(action="questions.question.asked").exists()


def test_control_characters_are_dropped_and_line_breaks_kept(consultation, company, company_member):
    question = ask(company_member, company, consultation, "  Ligne 1\r\nLigne\x00 2\x07  ")
    assert question.text == "Ligne 1\nLigne 2"


def test_only_members_of_the_company_with_the_right_may_ask(
    consultation, buyer, company, company_member, buyer_agent, operator
):
    stranger_company = CompanyFactory()
    with pytest.raises(NotFound):
        ask(company_member, stranger_company, consultation)  # not a member of that company
    with pytest.raises(NotFound):
        ask(buyer_agent, buyer, consultation)  # a buyer is not a company
    with pytest.raises(PermissionRefused):
        ask(operator, company, consultation)  # operators see every organisation but do not ask
    with pytest.raises(PermissionRefused):
        ask(None, company, consultation)
    assert questions_of(consultation) == []


# --- Answering --------------------------------------------------------------------------------------


def test_the_answer_is_published_without_the_askers_identity(consultation, company, company_member, buyer_agent):
    question = ask(company_member, company, consultation)
    assert selectors.published_entries(consultation) == []
    services.question_answer(acting_user=buyer_agent, question=question, answer="Oui, la dépose est comprise.")
    [published] = selectors.published_entries(consultation)
    assert published.answer == "Oui, la dépose est comprise." and published.published_at == NOW
    # The public read does not even load the asker's fields.
    assert {"asked_by_id", "asker_organisation_id", "asker_email"} <= published.get_deferred_fields()
    event = AuditEvent.objects.get(action="questions.answer.published")
    assert event.actor_id == buyer_agent.pk and event.data["late"] is False


def test_the_buyer_may_rephrase_the_question_before_publication(consultation, company, company_member, buyer_agent):
    question = ask(company_member, company, consultation, "Menuiserie Bourguignonne demande : visite ?")
    services.question_answer(
        acting_user=buyer_agent,
        question=question,
        answer="Oui, le 12 mars.",
        question_text="Une visite est-elle prévue ?",
    )
    question.refresh_from_db()
    assert question.text == "Une visite est-elle prévue ?"
    assert question.original_text == "Menuiserie Bourguignonne demande : visite ?"
    assert "Bourguignonne" not in selectors.published_entries(consultation)[0].text
    with pytest.raises(DomainError, match="ne change plus"):
        services.question_answer(
            acting_user=buyer_agent, question=question, answer="Oui, le 13 mars.", question_text="Autre texte"
        )


def test_editing_a_published_answer_keeps_the_earlier_text(frozen, consultation, company, company_member, buyer_agent):
    question = ask(company_member, company, consultation)
    services.question_answer(acting_user=buyer_agent, question=question, answer="Oui.")
    frozen.move_to(NOW + dt.timedelta(hours=2))
    services.question_answer(acting_user=buyer_agent, question=question, answer="Non : elle fait l'objet du lot 3.")
    question.refresh_from_db()
    assert question.answer == "Non : elle fait l'objet du lot 3."
    assert question.published_at == NOW and question.updated_at == NOW + dt.timedelta(hours=2)
    with scopes_disabled():
        [revision] = AnswerRevision.objects.filter(question=question)
    assert revision.previous_text == "Oui." and revision.previous_published_at == NOW
    assert revision.replaced_by == buyer_agent
    assert AuditEvent.objects.filter(action="questions.answer.edited").count() == 1
    with pytest.raises(DomainError, match="n'a pas changé"):
        services.question_answer(acting_user=buyer_agent, question=question, answer="Non : elle fait l'objet du lot 3.")


@pytest.mark.parametrize("answer", ["", "  \n ", "y" * (services.ANSWER_MAX_LENGTH + 1)])
def test_bad_answers_are_refused(consultation, company, company_member, buyer_agent, answer):
    question = ask(company_member, company, consultation)
    with pytest.raises(DomainError):
        services.question_answer(acting_user=buyer_agent, question=question, answer=answer)
    question.refresh_from_db()
    assert question.published_at is None and question.answer == ""


def test_only_the_buyers_staff_answer(consultation, company, company_member, commission_member, outsider, operator):
    question = ask(company_member, company, consultation)
    with pytest.raises(PermissionRefused):
        services.question_answer(acting_user=commission_member, question=question, answer="Oui.")
    with pytest.raises(NotFound):
        services.question_answer(acting_user=outsider, question=question, answer="Oui.")
    with pytest.raises(NotFound):
        services.question_answer(acting_user=company_member, question=question, answer="Oui.")
    with pytest.raises(PermissionRefused):
        services.question_answer(acting_user=operator, question=question, answer="Oui.")
    question.refresh_from_db()
    assert question.published_at is None


def test_no_answer_once_the_consultation_is_no_longer_in_progress(consultation, company, company_member, buyer_agent):
    question = ask(company_member, company, consultation)
    with scopes_disabled():
        type(consultation).objects.filter(pk=consultation.pk).update(state="cancelled")
    with pytest.raises(DomainError, match="n'est pas en cours"):
        services.question_answer(acting_user=buyer_agent, question=question, answer="Oui.")


# --- R2132-6 ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urgency", "delay"), [(False, dt.timedelta(days=6)), (True, dt.timedelta(days=4))], ids=["normal", "urgency"]
)
def test_r2132_6_limit_warns_after_it_to_the_second(
    frozen, buyer, company, company_member, buyer_agent, urgency, delay
):
    consultation = ConsultationFactory(
        organisation=buyer,
        published=True,
        procedure="open",
        urgency=urgency,
        questions_deadline=NOW + dt.timedelta(days=10),
        bids_deadline=NOW + dt.timedelta(days=20),  # no daylight-saving change in between
    )
    limit = consultation.bids_deadline - delay
    assert services.answer_limit(consultation) == limit
    first, second, third = (ask(company_member, company, consultation) for _ in range(3))

    frozen.move_to(limit)  # at the limit: still in time
    services.question_answer(acting_user=buyer_agent, question=first, answer="À temps.")
    frozen.move_to(limit + dt.timedelta(seconds=1))
    with pytest.raises(services.LateAnswer, match="R2132-6") as warned:
        services.question_answer(acting_user=buyer_agent, question=second, answer="Trop tard ?")
    assert warned.value.limit == limit and "reportez la date limite" in warned.value.message
    second.refresh_from_db()
    assert second.published_at is None

    services.question_answer(acting_user=buyer_agent, question=third, answer="En retard, confirmé.", confirm_late=True)
    first.refresh_from_db()
    third.refresh_from_db()
    assert (first.published_late, third.published_late) == (False, True)
    assert AuditEvent.objects.filter(action="questions.answer.published", data__late=True).count() == 1


def test_r2132_6_does_not_apply_to_adapted_procedures(frozen, buyer, company, company_member, buyer_agent):
    consultation = ConsultationFactory(organisation=buyer, published=True, procedure="mapa")
    question = ask(company_member, company, consultation)
    assert services.answer_limit(consultation) is None
    frozen.move_to(consultation.bids_deadline - dt.timedelta(hours=1))
    services.question_answer(acting_user=buyer_agent, question=question, answer="Oui.")
    question.refresh_from_db()
    assert question.published_late is False


# --- Information ------------------------------------------------------------------------------------


def test_the_buyer_publishes_information_numbered_with_the_questions(
    frozen, consultation, company, company_member, buyer_agent
):
    ask(company_member, company, consultation)
    information = services.information_publish(
        acting_user=buyer_agent, consultation=consultation, text="La visite du 12 mars est reportée au 14."
    )
    assert information.kind == Kind.INFORMATION and information.number == 2 and information.published_at == NOW
    assert [entry.number for entry in selectors.published_entries(consultation)] == [2]
    frozen.move_to(NOW + dt.timedelta(minutes=5))
    services.information_edit(acting_user=buyer_agent, information=information, text="Reportée au 15.")
    information.refresh_from_db()
    assert information.text == "Reportée au 15." and information.updated_at == NOW + dt.timedelta(minutes=5)
    with scopes_disabled():
        assert AnswerRevision.objects.get(question=information).previous_text.startswith("La visite")
    assert {e.action for e in AuditEvent.objects.filter(action__startswith="questions.information.")} == {
        "questions.information.published",
        "questions.information.edited",
    }


def test_information_rights_and_states(buyer, other_buyer, buyer_agent, outsider, commission_member):
    consultation = ConsultationFactory(organisation=buyer, published=True)
    with pytest.raises(NotFound):
        services.information_publish(acting_user=outsider, consultation=consultation, text="Info")
    with pytest.raises(PermissionRefused):
        services.information_publish(acting_user=commission_member, consultation=consultation, text="Info")
    with pytest.raises(DomainError, match="n'est pas en cours"):
        services.information_publish(
            acting_user=buyer_agent, consultation=ConsultationFactory(organisation=buyer), text="Info"
        )
    with pytest.raises(DomainError, match="vide"):
        services.information_publish(acting_user=buyer_agent, consultation=consultation, text=" ")
    with scopes_disabled():
        assert not Question.objects.exists()


# --- Visibility -------------------------------------------------------------------------------------


def test_a_company_sees_its_own_questions_never_another_companys_unanswered_ones(
    consultation, company, company_member, company_admin, buyer_agent
):
    rival = CompanyFactory(name="Charpentes Rivales")
    rival_member = make_member(rival, Role.COMPANY_MEMBER)
    mine = ask(company_member, company, consultation, "Question de mon entreprise")
    theirs = ask(rival_member, rival, consultation, "Question confidentielle du concurrent")
    assert selectors.company_questions(consultation, company_admin) == [mine]  # a colleague sees it too
    assert selectors.company_questions(consultation, rival_member) == [theirs]
    services.question_answer(acting_user=buyer_agent, question=theirs, answer="Réponse pour tous.")
    assert selectors.company_questions(consultation, company_member) == [mine]
    assert [entry.text for entry in selectors.published_entries(consultation)] == [
        "Question confidentielle du concurrent"
    ]
    assert selectors.company_questions(consultation, make_operator()) == []


# --- Concurrency ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_questions_get_distinct_numbers(buyer, company):
    from ebourgogne.consultations.models import CpvCode

    CpvCode.objects.get_or_create(  # transactional tests flush the codes the migration loaded
        code="45000000",
        defaults={
            "check_digit": "7",
            "label_fr": "Travaux de construction",
            "label_en": "Construction work",
            "level": 1,
        },
    )
    """Threads asking at once on one consultation: numbers 1..N, none lost (row lock on PostgreSQL, one
    writer at a time on SQLite)."""
    threads_count = 6 if connection.vendor == "postgresql" else 3
    consultation = ConsultationFactory(organisation=buyer, published=True)
    members = [make_member(company, Role.COMPANY_MEMBER) for _ in range(threads_count)]
    barrier = threading.Barrier(threads_count)
    errors: list[BaseException] = []

    def worker(user) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                ask(user, company, consultation, f"Question de {user.email}")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(member,)) for member in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert [question.number for question in questions_of(consultation)] == list(range(1, threads_count * 3 + 1))


# --- Any text -----------------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(max_size=60)
    | st.text(min_size=services.QUESTION_MAX_LENGTH - 2, max_size=services.QUESTION_MAX_LENGTH + 3)
)
def test_any_text_is_either_refused_cleanly_or_stored_clean(consultation, company, company_member, text):
    """Whatever is typed: a DomainError with a message and nothing stored, or a stored question without
    control characters, within the limit, that the database gives back unchanged."""
    with scopes_disabled():
        before = Question.objects.filter(consultation=consultation).count()
    try:
        question = ask(company_member, company, consultation, text)
    except DomainError as refused:
        assert refused.message
        with scopes_disabled():
            assert Question.objects.filter(consultation=consultation).count() == before
        return
    assert question.text and len(question.text) <= services.QUESTION_MAX_LENGTH
    assert all(ch in "\n\t" or (ord(ch) >= 32 and ord(ch) != 127) for ch in question.text)
    question.refresh_from_db()
    assert question.text == question.text.strip()
