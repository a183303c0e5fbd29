"""/api/v1/consultations (public reads) and /api/v1/buyers/{org}/consultations (buyers' writes): drafts never
public, cross-tenant and role checks, bad input answered with clear JSON, the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from ebourgogne.apitokens import services as tokens
from ebourgogne.consultations.models import Consultation
from ebourgogne.consultations.tests import api_data
from ebourgogne.core import clock
from ebourgogne.testing.factories import ConsultationFactory, sign_in
from ebourgogne.testing.sealing import buyer_opening_keys  # noqa: F401 - publication needs an opening commission

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("buyer_opening_keys")]
PUBLIC = "/api/v1/consultations"


def token_client(user) -> Client:
    _token, secret = tokens.token_create(user=user, name="tests")
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def send(client: Client, method: str, url: str, data=None, **extra):
    body = data if isinstance(data, str) else json.dumps(data or {})
    return client.generic(method, url, body, content_type="application/json", **extra)


# --- Public reads -----------------------------------------------------------------------------------


def test_drafts_are_never_public(client, buyer):
    published = ConsultationFactory(organisation=buyer, published=True)
    draft = ConsultationFactory(organisation=buyer)
    ids = [item["id"] for item in client.get(f"{PUBLIC}/").json()["items"]]
    assert ids == [published.pk]
    for path in ("", "/ocds", "/documents", "/questions"):
        response = client.get(f"{PUBLIC}/{draft.pk}{path}")
        assert response.status_code == 404, path
        assert response.json() == {"detail": "Consultation introuvable.", "code": "not_found"}
    assert client.get(f"{PUBLIC}/999999").status_code == 404
    assert client.get(f"{PUBLIC}/{draft.pk}", HTTP_ACCEPT_LANGUAGE="en").json()["detail"] == "Consultation not found."


def test_the_practice_consultation_is_not_open_data(client, buyer, platform):
    """The permanent practice consultation (training for bidders) is in no public list nor in OCDS."""
    from ebourgogne.tenders.practice import practice_consultation

    published = ConsultationFactory(organisation=buyer, published=True)
    practice = practice_consultation()
    assert practice.is_practice and practice.is_public
    ids = [item["id"] for item in client.get(f"{PUBLIC}/").json()["items"]]
    assert ids == [published.pk]
    releases = client.get(f"{PUBLIC}/ocds").json()["releases"]
    assert [release["tender"]["title"] for release in releases] == [published.title]
    assert client.get(f"{PUBLIC}/{practice.pk}/ocds").status_code == 404


def test_one_consultation_with_lots_documents_and_answers(client, buyer):
    consultation = api_data.with_lots(buyer)
    api_data.with_dce(consultation, rectified=True)
    api_data.with_questions(consultation)
    body = client.get(f"{PUBLIC}/{consultation.pk}").json()
    assert body["buyer"]["siret"] == buyer.siret and body["state"] == "published"
    assert [lot["title"] for lot in body["lots"]] == ["Gros œuvre", "Couverture"]
    assert body["lots"][0]["cpv_codes"][0]["full_code"] == "45210000-2"
    assert {code["code"] for code in body["cpv_codes"]} == {"45000000", "45260000"}
    assert dt.datetime.fromisoformat(body["bids_deadline"]).utcoffset() in (
        dt.timedelta(hours=1),
        dt.timedelta(hours=2),
    )
    documents = body["documents"]
    assert documents["version"] == 2 and documents["rectifications"][0]["reason"] == "Erreur de date"
    assert [(f["name"], f["size"], f["format"]) for f in documents["files"]] == [
        ("CCTP.docx", 56789, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("RC-v2.pdf", 2345, "application/pdf"),
    ]
    assert f"/consultations/{consultation.pk}/dce/fichiers/" in documents["files"][1]["download_url"]
    assert documents["archive_url"].endswith(f"/consultations/{consultation.pk}/dce/dce-complet.zip")
    assert [(q["number"], q["kind"]) for q in body["questions"]] == [(1, "question"), (3, "information")]
    assert "secret@entreprise.test" not in json.dumps(body) and "Question sans réponse" not in json.dumps(body)
    assert client.get(f"{PUBLIC}/{consultation.pk}/documents").json() == documents
    assert client.get(f"{PUBLIC}/{consultation.pk}/questions").json() == body["questions"]


def test_filters(client, buyer, other_buyer):
    roads = ConsultationFactory(organisation=buyer, published=True, main_cpv_id="45233000", department="21")
    lots = api_data.with_lots(other_buyer, department="89", contract_type="works")
    services = ConsultationFactory(
        organisation=other_buyer, published=True, main_cpv_id="77310000", contract_type="services", department="89"
    )
    closed = ConsultationFactory(organisation=buyer, published=True, main_cpv_id="77310000")
    with scopes_disabled():
        Consultation.objects.filter(pk=closed.pk).update(bids_deadline=clock.now() - dt.timedelta(hours=1))

    def ids(**params):
        response = client.get(f"{PUBLIC}/", params)
        assert response.status_code == 200, response.content
        return sorted(item["id"] for item in response.json()["items"])

    assert ids(buyer=buyer.slug) == sorted([roads.pk, closed.pk])
    assert ids(cpv="45") == sorted([roads.pk, lots.pk])
    assert ids(cpv="4526") == [lots.pk]  # a code of the consultation or of a lot, with its subtree
    assert ids(cpv="77310000-6") == sorted([services.pk, closed.pk])
    assert ids(department="89") == sorted([lots.pk, services.pk])
    assert ids(contract_type="services") == [services.pk]
    assert ids(state="closed") == [closed.pk]  # published, deadline passed: closed for everyone
    assert closed.pk not in ids(state="published")
    future = (clock.now() + dt.timedelta(days=1)).isoformat()
    assert ids(updated_since=future) == []
    with scopes_disabled():
        api_data.with_questions(services)
    assert services.pk not in ids(updated_since=future)


def test_bad_filters_and_cursors_are_clear_400_or_422(client):
    response = client.get(f"{PUBLIC}/", {"cpv": "4521'; DROP TABLE"})
    assert response.status_code == 422 and "cpv" in response.json()["errors"]
    response = client.get(f"{PUBLIC}/", {"limit": "beaucoup"})
    assert response.status_code == 422 and response.json()["errors"]["limit"] == ["Nombre entier attendu."]
    response = client.get(f"{PUBLIC}/", {"state": "draft"})
    assert response.status_code == 422  # drafts cannot even be asked for
    response = client.get(f"{PUBLIC}/", {"cursor": "bricolé"})
    assert response.status_code == 400 and response.json()["code"] == "cursor_invalid"
    response = client.get(f"{PUBLIC}/", {"updated_since": "hier"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422 and "ISO 8601" in response.json()["errors"]["updated_since"][0]
    assert response.json()["detail"].startswith("Invalid data")


def test_a_cursor_of_another_order_is_refused(client, buyer):
    for _ in range(3):
        ConsultationFactory(organisation=buyer, published=True)
    cursor = client.get(f"{PUBLIC}/", {"limit": 1}).json()["next_cursor"]
    assert client.get(f"{PUBLIC}/", {"limit": 1, "cursor": cursor}).status_code == 200
    assert client.get(f"{PUBLIC}/", {"limit": 1, "cursor": cursor, "order": "-id"}).status_code == 400


# --- Buyers' writes ---------------------------------------------------------------------------------


def buyer_url(organisation, suffix: str = "") -> str:
    return f"/api/v1/buyers/{organisation.slug}/consultations{suffix}"


DRAFT = {
    "reference": "API-2027-010",
    "title": "Réfection de la voirie communale",
    "object": "Reprise des enrobés de trois rues.",
    "contract_type": "works",
    "procedure": "mapa",
    "main_cpv": "45233000",
    "additional_cpv": ["45233140-2"],
    "department": "21",
    "estimated_value": "180000.00",
    "contact_name": "Service technique",
    "contact_email": "technique@beaune.test",
    "lots": [{"title": "Rue Carnot", "main_cpv": "45233000", "estimated_value": 90000}],
}


def test_a_buyer_creates_edits_publishes_postpones_and_cancels_with_a_token(buyer, buyer_agent):
    api = token_client(buyer_agent)
    deadline = clock.now() + dt.timedelta(days=40)
    data = {
        **DRAFT,
        "bids_deadline": deadline.isoformat(),
        "questions_deadline": (deadline - dt.timedelta(days=10)).isoformat(),
    }
    response = send(api, "POST", buyer_url(buyer), data)
    assert response.status_code == 201, response.content
    created = response.json()
    assert created["state"] == "draft" and created["lots"][0]["title"] == "Rue Carnot"
    pk = created["id"]
    assert Client().get(f"{PUBLIC}/{pk}").status_code == 404  # still a draft

    response = send(api, "PATCH", buyer_url(buyer, f"/{pk}"), {"title": "Réfection de la voirie (trois rues)"})
    assert response.status_code == 200 and response.json()["title"] == "Réfection de la voirie (trois rues)"
    assert response.json()["lots"][0]["title"] == "Rue Carnot"  # untouched: PATCH changes only what is given

    response = send(api, "POST", buyer_url(buyer, f"/{pk}/publish"))
    assert response.status_code == 200, response.content
    assert Client().get(f"{PUBLIC}/{pk}").status_code == 200

    earlier = (deadline - dt.timedelta(days=1)).isoformat()
    response = send(api, "POST", buyer_url(buyer, f"/{pk}/postpone"), {"bids_deadline": earlier, "reason": "x"})
    assert response.status_code == 400 and "bids_deadline" in response.json()["errors"]
    later = (deadline + dt.timedelta(days=7)).isoformat()
    response = send(api, "POST", buyer_url(buyer, f"/{pk}/postpone"), {"bids_deadline": later, "reason": "Demandes"})
    assert response.status_code == 200, response.content

    response = send(api, "POST", buyer_url(buyer, f"/{pk}/cancel"), {"reason": "Besoin redéfini"})
    assert response.status_code == 200 and response.json()["state"] == "cancelled"
    response = send(api, "POST", buyer_url(buyer, f"/{pk}/cancel"), {"reason": "encore"})
    assert response.status_code == 400 and response.json()["detail"]


def test_writes_on_another_buyers_consultation_are_404(buyer, other_buyer, buyer_agent, outsider):
    theirs = ConsultationFactory(organisation=other_buyer)
    api = token_client(buyer_agent)
    # Through our own organisation's URL: not ours, so not found.
    assert send(api, "PATCH", buyer_url(buyer, f"/{theirs.pk}"), {"title": "x"}).status_code == 404
    assert send(api, "POST", buyer_url(buyer, f"/{theirs.pk}/publish")).status_code == 404
    # Through theirs: we are not a member, the organisation is not revealed.
    assert send(api, "POST", buyer_url(other_buyer), DRAFT).status_code == 404
    assert send(api, "PATCH", buyer_url(other_buyer, f"/{theirs.pk}"), {"title": "x"}).status_code == 404
    with scopes_disabled():
        theirs.refresh_from_db()
    assert theirs.title != "x" and theirs.state == "draft"


def test_a_role_without_the_permission_gets_403(buyer, commission_member, company_admin, company):
    api = token_client(commission_member)
    response = send(api, "POST", buyer_url(buyer), DRAFT)
    assert response.status_code == 403 and "ne permet pas" in response.json()["detail"]
    assert send(token_client(company_admin), "POST", buyer_url(buyer), DRAFT).status_code == 404
    with scopes_disabled():
        assert not Consultation.objects.exists()


def test_bad_input_is_a_clear_error_and_stores_nothing(buyer, buyer_agent):
    api = token_client(buyer_agent)
    response = send(api, "POST", buyer_url(buyer), '{"reference": "A", "title": ')
    assert response.status_code == 400 and response.json()["code"] == "json_invalid"
    response = send(api, "POST", buyer_url(buyer), {**DRAFT, "estimated_value": "beaucoup", "lots": "un"})
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"estimated_value", "lots"}
    response = send(api, "POST", buyer_url(buyer), {**DRAFT, "colour": "rouge"})
    assert response.status_code == 422 and response.json()["errors"] == {"colour": ["Champ inconnu."]}
    response = send(api, "POST", buyer_url(buyer), {**DRAFT, "main_cpv": "99999999"})
    assert response.status_code == 400 and "main_cpv" in response.json()["errors"]
    response = send(api, "POST", buyer_url(buyer), {**DRAFT, "procedure": "au hasard"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 422 and "Unexpected value" in response.json()["errors"]["procedure"][0]
    response = send(api, "POST", buyer_url(buyer), {**DRAFT, "bids_deadline": "2027-03-28T02:30:00"})
    assert response.status_code == 400 and "bids_deadline" in response.json()["errors"]  # no offset: refused
    response = send(api, "POST", buyer_url(buyer), {"title": "Sans référence"})
    assert response.status_code == 400 and "reference" in response.json()["errors"]
    with scopes_disabled():
        assert not Consultation.objects.exists()


def test_the_browser_session_can_read_the_buyers_drafts(client, buyer, buyer_agent, buyer_admin):
    ConsultationFactory(organisation=buyer, reference="B-1")
    sign_in(client, buyer_agent)
    assert [item["reference"] for item in client.get(buyer_url(buyer)).json()["items"]] == ["B-1"]


# --- The OpenAPI schema ----------------------------------------------------------------------------


def test_the_openapi_schema_loads_and_lists_the_new_operations(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path, method in [
        ("/api/v1/consultations/", "get"),
        ("/api/v1/consultations/{consultation_id}", "get"),
        ("/api/v1/consultations/{consultation_id}/ocds", "get"),
        ("/api/v1/consultations/ocds", "get"),
        ("/api/v1/consultations/{consultation_id}/documents", "get"),
        ("/api/v1/consultations/{consultation_id}/questions", "get"),
        ("/api/v1/buyers/{org_slug}/consultations", "post"),
        ("/api/v1/buyers/{org_slug}/consultations/{consultation_id}", "patch"),
        ("/api/v1/buyers/{org_slug}/consultations/{consultation_id}/publish", "post"),
        ("/api/v1/buyers/{org_slug}/consultations/{consultation_id}/postpone", "post"),
        ("/api/v1/buyers/{org_slug}/consultations/{consultation_id}/cancel", "post"),
    ]:
        assert method in paths.get(path, {}), f"{method.upper()} {path}"
    security = schema["components"]["securitySchemes"]
    assert any(scheme.get("scheme") == "bearer" for scheme in security.values())
    operation_ids = [op["operationId"] for item in paths.values() for op in item.values()]
    assert len(operation_ids) == len(set(operation_ids))


def test_ids_out_of_range_are_404_not_500(client, buyer, buyer_agent):
    huge = "99999999999999999999999"
    for path in (
        f"{PUBLIC}/{huge}",
        f"{PUBLIC}/{huge}/ocds",
        f"{PUBLIC}/{huge}/documents",
        f"{PUBLIC}/{huge}/questions",
    ):
        assert client.get(path).status_code == 404, path
    api = token_client(buyer_agent)
    assert api.get(buyer_url(buyer, f"/{huge}")).status_code == 404
    assert send(api, "POST", buyer_url(buyer, f"/{huge}/publish")).status_code == 404


def test_a_page_costs_the_same_few_queries_whatever_its_size(client, buyer, django_assert_max_num_queries):
    for _ in range(25):
        api_data.with_lots(buyer)
    with django_assert_max_num_queries(2):
        response = client.get(f"{PUBLIC}/", {"limit": 25})
    assert len(response.json()["items"]) == 25
