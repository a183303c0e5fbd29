"""The DCE in the API: buyers upload (multipart, streamed; or small JSON), remove and publish a rectification
with a token; the public sees only published versions."""

from __future__ import annotations

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_scopes import scopes_disabled

from ebourgogne.apitokens import services as tokens
from ebourgogne.dce.models import DceFile
from ebourgogne.testing.factories import ConsultationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def token_client(user) -> Client:
    _token, secret = tokens.token_create(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def names(consultation) -> list[str]:
    with scopes_disabled():
        return sorted(
            DceFile.objects.filter(consultation=consultation, removed_in__isnull=True).values_list("name", flat=True)
        )


def test_upload_remove_and_rectify(client, buyer, buyer_agent, django_capture_on_commit_callbacks):
    consultation = ConsultationFactory(organisation=buyer)
    api = token_client(buyer_agent)
    base = f"/api/v1/buyers/{buyer.slug}/consultations/{consultation.pk}/documents"
    response = api.post(
        base, {"file": SimpleUploadedFile("RC.pdf", b"%PDF-1.7 reglement", content_type="application/pdf")}
    )
    assert response.status_code == 201, response.content
    uploaded = response.json()
    assert uploaded["name"] == "RC.pdf" and uploaded["size"] == 18 and uploaded["version"] == 1
    small = {"name": "CCTP.txt", "content_base64": base64.b64encode(b"clauses").decode()}
    response = api.post(base, json.dumps(small), content_type="application/json")
    assert response.status_code == 201 and response.json()["format"] == "text/plain"
    draft = api.get(f"{base}/draft").json()
    assert [f["name"] for f in draft["files"]] == ["CCTP.txt", "RC.pdf"] and draft["used"] == 25

    response = api.delete(f"{base}/{response.json()['id']}")
    assert response.status_code == 204 and names(consultation) == ["RC.pdf"]
    response = api.post(f"{base}/publish", json.dumps({"reason": "Correction"}), content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "not_published"  # published with the consultation
    assert client.get(f"/api/v1/consultations/{consultation.pk}/documents").status_code == 404


def test_bad_uploads_are_refused_clearly(buyer, buyer_agent):
    consultation = ConsultationFactory(organisation=buyer)
    api = token_client(buyer_agent)
    base = f"/api/v1/buyers/{buyer.slug}/consultations/{consultation.pk}/documents"
    response = api.post(base, {"autre": "rien"})
    assert response.status_code == 400 and response.json()["code"] == "file_required"
    response = api.post(base, {"file": SimpleUploadedFile("vide.pdf", b"", content_type="application/pdf")})
    assert response.status_code == 400 and response.json()["detail"]
    response = api.post(base, {"file": SimpleUploadedFile("../../etc/passwd", b"x")})
    assert response.status_code in (400, 201)
    bad = {"name": "a.pdf", "content_base64": "pas du base64 !"}
    response = api.post(base, json.dumps(bad), content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "upload_invalid"
    with scopes_disabled():
        consultation.dce_size_limit = 10
        consultation.save()
    big = SimpleUploadedFile("gros.pdf", b"x" * 100, content_type="application/pdf")
    response = api.post(base, {"file": big}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 413 and response.json()["code"] == "too_large"
    assert "gros.pdf" not in names(consultation) and "vide.pdf" not in names(consultation)
    for name in names(consultation):
        assert "/" not in name and "\\\\" not in name


def test_another_buyers_dce_is_404(buyer, other_buyer, buyer_agent):
    theirs = ConsultationFactory(organisation=other_buyer)
    api = token_client(buyer_agent)
    file = SimpleUploadedFile("RC.pdf", b"%PDF", content_type="application/pdf")
    assert (
        api.post(f"/api/v1/buyers/{buyer.slug}/consultations/{theirs.pk}/documents", {"file": file}).status_code == 404
    )
    assert (
        api.post(f"/api/v1/buyers/{other_buyer.slug}/consultations/{theirs.pk}/documents", {"file": file}).status_code
        == 404
    )
    assert names(theirs) == []
