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
