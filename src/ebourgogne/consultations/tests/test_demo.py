"""The demo data set has consultations of the demo buyers in every state, made through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.consultations.models import Consultation, State
from ebourgogne.core import demo

pytestmark = pytest.mark.django_db


def test_demo_consultations_in_every_state(client):
    demo.load(bulk=False)
    with scopes_disabled():
        consultations = list(Consultation.objects.select_related("organisation"))
    assert {consultation.state for consultation in consultations} == set(State.values)
    assert {consultation.organisation.name for consultation in consultations} == {
        spec.name for spec in demo.ORGANISATIONS if spec.kind == "buyer"
    }
    for consultation in consultations:
        if consultation.state == State.PUBLISHED:
            assert consultation.accepts_bids
        # Every step went through the services: each consultation has its events.
        actions = set(AuditEvent.objects.filter(object_id=str(consultation.pk)).values_list("action", flat=True))
        assert "consultation.created" in actions
        if consultation.state != State.DRAFT:
            assert "consultation.published" in actions
            response = client.get(reverse("consultations_public:detail", args=[consultation.pk]))
            assert response.status_code == 200
        else:
            assert client.get(reverse("consultations_public:detail", args=[consultation.pk])).status_code == 404


def test_demo_consultations_have_tender_files_and_one_has_a_rectification_and_an_answer(client):
    from ebourgogne.dce.models import DceFile, DceVersion
    from ebourgogne.questions.models import Question

    demo.load(bulk=False)
    with scopes_disabled():
        consultations = list(Consultation.objects.all())
        for consultation in consultations:
            assert DceFile.objects.filter(consultation=consultation).count() >= len(demo.TENDER_FILES)
        rectifications = list(DceVersion.objects.filter(number=2, published_at__isnull=False))
        assert len(rectifications) == 1
        assert rectifications[0].reason
        answered = list(Question.objects.filter(published_at__isnull=False))
    assert len(answered) == 1
    page = client.get(reverse("consultations_public:detail", args=[answered[0].consultation_id]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "visite facultative" in html  # the published answer
    assert "Avis de visite des lieux" in html  # the file added by the rectification
    assert "Règlement de la consultation" in html
