"""The state-changing operations of the questions app, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.core import clock
from ebourgogne.questions.models import Kind, Question
from ebourgogne.testing.authorisation import Operation, World
from ebourgogne.testing.factories import ConsultationFactory


def _consultation(world: World):
    """A published consultation of the world's buyer, made once per world."""
    if "questions.consultation" not in world.extra:
        world.extra["questions.consultation"] = ConsultationFactory(organisation=world.buyer, published=True)
    return world.extra["questions.consultation"]


def _question(world: World) -> Question:
    """An unanswered question of the world's company on that consultation."""
    if "questions.question" not in world.extra:
        with scopes_disabled():
            world.extra["questions.question"] = Question.objects.create(
                consultation=_consultation(world),
                number=1,
                kind=Kind.QUESTION,
                text="Le lot 2 comprend-il la dépose ?",
                asked_by=world.company_member,
                asker_organisation=world.company,
                asker_email=world.company_member.email,
                asked_at=clock.now(),
            )
    return world.extra["questions.question"]


def _entries(world: World):
    return sorted(
        Question.objects.filter(consultation=_consultation(world)).values_list(
            "number", "kind", "text", "answer", "published_at", "asker_organisation_id"
        )
    )


def _answer_state(world: World):
    return Question.objects.filter(pk=_question(world).pk).values_list("answer", "published_at").get()


OPERATIONS = [
    Operation(
        # The company comes from the form (a user may belong to several); the view resolves it through
        # the access layer like an organisation in the URL: 404 to a stranger, 403 to an operator.
        name="questions.ask",
        target="questions_public:ask",
        method="POST",
        permission="questions.ask",
        organisation=lambda w: w.company,
        url=lambda w: reverse("questions_public:ask", args=[_consultation(w).pk]),
        data=lambda w: {"company": w.company.slug, "text": "Une visite du site est-elle prévue ?"},
        snapshot=_entries,
    ),
    Operation(
        name="questions.answer",
        target="questions_buyer:answer",
        method="POST",
        permission="questions.answer",
        url=lambda w: reverse("questions_buyer:answer", args=[w.buyer.slug, _consultation(w).pk, _question(w).pk]),
        data=lambda w: {"question_text": _question(w).text, "answer": "Oui, la dépose est comprise."},
        snapshot=_answer_state,
    ),
    Operation(
        name="questions.information",
        target="questions_buyer:information",
        method="POST",
        permission="questions.answer",
        url=lambda w: reverse("questions_buyer:information", args=[w.buyer.slug, _consultation(w).pk]),
        data=lambda w: {"text": "La visite du site aura lieu le 12 mars à 10 h."},
        snapshot=_entries,
    ),
]
