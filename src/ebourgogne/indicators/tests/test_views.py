"""Dashboard pages, CSV exports and the API: who sees what (tenant isolation), bad input, the refresh button."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.indicators import services
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import UserFactory, make_member, sign_in

pytestmark = pytest.mark.django_db

PERIOD = {"du": "2026-01", "au": "2026-06"}


@pytest.fixture
def refreshed(world):
    services.refresh_all()
    return world


@pytest.fixture
def admin_a(refreshed):
    return make_member(refreshed.a, Role.BUYER_ADMIN, UserFactory(email="admin@beaune.test"))


def _dashboard_url(world, buyer=None):
    return reverse("indicators_buyer:dashboard", args=[(buyer or world.a).slug])


def test_buyer_sees_its_own_dashboard(client, refreshed, admin_a):
    sign_in(client, admin_a)
    response = client.get(_dashboard_url(refreshed), PERIOD)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'role="img"' in page and "<details" in page and "Chiffres arrêtés au 15 juin 2026 à 12:00" in page
    assert "<strong>4</strong> consultations publiées" in page  # A only, not B's nor C's
    assert (
        reverse("indicators_buyer:export", args=[refreshed.a.slug, "publications"]) + "?du=2026-01&amp;au=2026-06"
        in page
    )
    assert reverse("indicators:department", args=["21"]) in page and reverse("indicators:region") in page


@pytest.mark.parametrize("role", [Role.BUYER_AGENT])
def test_buyer_agent_sees_it_too(client, refreshed, role):
    sign_in(client, make_member(refreshed.a, role, UserFactory()))
    assert client.get(_dashboard_url(refreshed)).status_code == 200


def test_other_buyers_and_strangers_do_not(client, refreshed):
    url = _dashboard_url(refreshed)
    assert client.get(url).status_code == 302  # anonymous: to the login page
    sign_in(client, make_member(refreshed.b, Role.BUYER_ADMIN, UserFactory()))
    assert client.get(url).status_code == 404
    assert client.get(reverse("indicators_buyer:export", args=[refreshed.a.slug, "bids"])).status_code == 404
    assert client.post(reverse("indicators_buyer:refresh", args=[refreshed.a.slug])).status_code == 404
    sign_in(client, make_member(refreshed.a, Role.COMMISSION_MEMBER, UserFactory()))
    assert client.get(url).status_code == 403
    company_admin = make_member(refreshed.s1, Role.COMPANY_ADMIN, UserFactory())
    sign_in(client, company_admin)
    assert client.get(reverse("indicators_buyer:dashboard", args=[refreshed.s1.slug])).status_code in (403, 404)


def test_buyer_csv_export(client, refreshed, admin_a):
    sign_in(client, admin_a)
    response = client.get(reverse("indicators_buyer:export", args=[refreshed.a.slug, "bids"]), PERIOD)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="indicateurs-b-' in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeffNombre de plis par consultation\r\n")
    assert "Plis reçus;Consultations\r\n0 pli(s);1\r\n1 pli(s);0\r\n2 pli(s);1\r\n" in text
    assert client.get(reverse("indicators_buyer:export", args=[refreshed.a.slug, "nope"])).status_code == 404


def test_refresh_button_recomputes_and_is_audited(client, refreshed, admin_a):
    with scopes_disabled():
        from ebourgogne.indicators.tests.data import _consultation, utc

        _consultation(refreshed.a, "A7", utc(2026, 6, 2, 9), 20, "open", "45000000", state="published")
    sign_in(client, admin_a)
    assert "<strong>4</strong>" in client.get(_dashboard_url(refreshed), PERIOD).content.decode()
    assert client.get(reverse("indicators_buyer:refresh", args=[refreshed.a.slug])).status_code == 405
    response = client.post(reverse("indicators_buyer:refresh", args=[refreshed.a.slug]))
    assert response.status_code == 302
    assert "<strong>5</strong>" in client.get(_dashboard_url(refreshed), PERIOD).content.decode()
    with scopes_disabled():
        assert AuditEvent.objects.filter(action="indicators.refreshed", organisation_id=refreshed.a.pk).count() == 1


def test_public_pages_show_sums_without_company_or_buyer_names(client, refreshed):
    region = client.get(reverse("indicators:region"), PERIOD)
    assert region.status_code == 200
    page = region.content.decode()
    assert "<strong>6</strong> consultations publiées" in page
    for name in ("Grand Groupe BTP", "Menuiserie PME Un", "Commune de Beaune", "Commune d&#x27;Auxerre"):
        assert name not in page
    department = client.get(reverse("indicators:department", args=["21"]), PERIOD)
    assert department.status_code == 200 and "<strong>5</strong> consultations publiées" in department.content.decode()
    assert reverse("indicators:department", args=["89"]) in page  # links between the scopes
    assert client.get(reverse("indicators:department", args=["75"])).status_code == 404
    csv = client.get(reverse("indicators:department_export", args=["89", "sme"]), PERIOD)
    assert csv.status_code == 200 and "PME parmi les plis reçus (%);0,0" in csv.content.decode()


@pytest.mark.parametrize("query", [{"du": "2026-13"}, {"du": "2026-05", "au": "2026-01"}, {"au": "<script>"}])
def test_bad_periods_get_a_message_not_an_error(client, refreshed, query):
    response = client.get(reverse("indicators:region"), query)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert "<script>" not in response.content.decode()
    csv = client.get(reverse("indicators:region_export", args=["publications"]), query)
    assert csv.status_code == 400 and csv["Content-Type"].startswith("text/plain")
    api = client.get("/api/v1/indicators/region", query)
    assert api.status_code == 400 and api.json()["detail"]


def test_api(client, refreshed, admin_a):
    region = client.get("/api/v1/indicators/region", PERIOD)
    assert region.status_code == 200
    body = region.json()
    assert body["totals"]["published"] == 6 and body["period_from"] == "2026-01"
    sme = next(figure for figure in body["figures"] if figure["key"] == "sme")
    assert sme["rows"][0][1] == 50.0
    assert client.get("/api/v1/indicators/departments/21", PERIOD).json()["totals"]["published"] == 5
    assert client.get("/api/v1/indicators/departments/99").status_code == 404
    own = f"/api/v1/indicators/organisations/{refreshed.a.slug}"
    assert client.get(own).status_code == 401
    sign_in(client, admin_a)
    assert json.loads(client.get(own, PERIOD).content)["totals"]["published"] == 4
    assert client.get(f"/api/v1/indicators/organisations/{refreshed.b.slug}").status_code == 404
