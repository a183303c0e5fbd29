"""Questions and answers in the API: public reads without the asker, buyers answering with a token."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from ebourgogne.apitokens import services as tokens
from ebourgogne.consultations.tests import api_data
from ebourgogne.questions.models import Question
from ebourgogne.testing.factories import ConsultationFactory

pytestmark = pytest.mark.django_db


def token_client(user) -> Client:
    _token, secret = tokens.token_create(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def post(client: Client, url: str, data) -> object:
    return client.post(url, json.dumps(data), content_type="application/json")


def test_answering_publishes_to_everyone_without_the_asker(
    client, buyer, buyer_agent, django_capture_on_commit_callbacks
):
    consultation = ConsultationFactory(organisation=buyer, published=True)
    api_data.with_questions(consultation)
    api = token_client(buyer_agent)
    base = f"/api/v1/buyers/{buyer.slug}/consultations/{consultation.pk}"
    listed = api.get(f"{base}/questions").json()
    assert [(q["number"], q["answered"]) for q in listed] == [(1, True), (2, False), (3, True)]
    assert "x@y.test" not in json.dumps(listed)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(api, f"{base}/questions/2/answer", {"answer": "Oui, sous réserve de disponibilité."})
    assert response.status_code == 200, response.content
    assert response.json()["answered"] is True
    public = client.get(f"/api/v1/consultations/{consultation.pk}/questions").json()
    assert [q["number"] for q in public] == [1, 2, 3]
    assert public[1]["answer"] == "Oui, sous réserve de disponibilité." and "x@y.test" not in json.dumps(public)

    response = post(api, f"{base}/information", {"text": "Le règlement est corrigé."})
    assert response.status_code == 201 and response.json()["kind"] == "information"


def test_bad_answers_and_unknown_questions(buyer, buyer_agent, other_buyer):
    consultation = ConsultationFactory(organisation=buyer, published=True)
    api_data.with_questions(consultation)
    api = token_client(buyer_agent)
    base = f"/api/v1/buyers/{buyer.slug}/consultations/{consultation.pk}"
    response = post(api, f"{base}/questions/2/answer", {"answer": ""})
    assert response.status_code == 422 and "answer" in response.json()["errors"]
    response = post(api, f"{base}/questions/2/answer", {"answer": "   "})
    assert response.status_code == 400 and response.json()["detail"]
    assert post(api, f"{base}/questions/99/answer", {"answer": "x"}).status_code == 404
    assert post(api, f"{base}/questions/3/answer", {"answer": "x"}).status_code == 404  # an information
    theirs = ConsultationFactory(organisation=other_buyer, published=True)
    api_data.with_questions(theirs)
    url = f"/api/v1/buyers/{buyer.slug}/consultations/{theirs.pk}/questions/2/answer"
    assert post(api, url, {"answer": "x"}).status_code == 404
    with scopes_disabled():
        assert not Question.objects.filter(number=2, published_at__isnull=False).exists()
