import pytest


@pytest.mark.django_db
def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")
    body = response.json()
    assert set(body["checks"]) == {"database", "storage", "queue"}
    assert response.status_code == 200, body
    assert all(check["ok"] for check in body["checks"].values())
