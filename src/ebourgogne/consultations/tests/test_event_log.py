"""The event log of a consultation shows its own events and those of its questions, never another's."""

import pytest
from django_scopes import scope

from ebourgogne.consultations.selectors import consultation_events
from ebourgogne.questions.services import question_ask
from ebourgogne.testing.factories import ConsultationFactory


@pytest.mark.django_db
def test_questions_appear_in_the_event_log_of_their_consultation_only(buyer, company, company_member):
    consultation = ConsultationFactory(organisation=buyer, published=True)
    other = ConsultationFactory(organisation=buyer, published=True)
    question_ask(acting_user=company_member, company=company, consultation=consultation, text="Quel délai ?")
    question_ask(acting_user=company_member, company=company, consultation=other, text="Autre question ?")

    with scope(organisation=buyer):
        events = consultation_events(consultation=consultation).events
        other_events = consultation_events(consultation=other).events

    asked = [event for event in events if event.object_type == "questions.question"]
    assert len(asked) == 1
    assert asked[0].data["consultation"] == consultation.pk
    assert all(event.data.get("consultation") != other.pk for event in events)
    assert [event.data["consultation"] for event in other_events if event.object_type == "questions.question"] == [
        other.pk
    ]
