"""Pages of alerts: creation from a search, bad input, isolation between users, feed, unsubscribe links."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from ebourgogne.alerts import services, tasks
from ebourgogne.alerts.models import Alert, AlertKey, FollowMute
from ebourgogne.alerts.tests.conftest import new_alert
from ebourgogne.audit.models import AuditEvent
from ebourgogne.core import clock
from ebourgogne.search.tests.conftest import published
from ebourgogne.testing.factories import make_member, sign_in

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {"name": "Voirie", "q": "voirie", "cpv_codes": "", "buyers": "", "value_min": "", "value_max": ""}
    data.update(overrides)
    data.setdefault("delivery", "daily")
    return data


def test_create_from_a_search_prefills_the_criteria(client, subscriber):
    sign_in(client, subscriber)
    response = client.get(reverse("alerts:create"), {"q": "voirie communale", "cpv": "45000000", "department": "21"})
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["q"] == "voirie communale"
    assert form.initial["cpv_codes"] == "45000000"
    assert form.initial["departments"] == ["21"]
    response = client.post(
        reverse("alerts:create"), form_data(q="voirie communale", cpv_codes="45000000", departments=["21"])
    )
    assert response.status_code == 302
    alert = Alert.objects.get(owner=subscriber)
    assert (alert.q, alert.cpv_codes, alert.departments, alert.delivery) == (
        "voirie communale",
        ["45000000"],
        ["21"],
        "daily",
    )
    assert AlertKey.objects.filter(alert=alert).exists()
    assert AuditEvent.objects.filter(action="alerts.alert.created").exists()
    page = client.get(reverse("alerts:list"))
    assert alert.name in page.content.decode() and alert.feed_token in page.content.decode()


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (form_data(q=""), None, "Une alerte sans critère"),
        (form_data(q="le la les de"), None, "Une alerte sans critère"),
        (form_data(cpv_codes="12345678"), "cpv_codes", "Code CPV inconnu : 12345678"),
        (form_data(cpv_codes="4500"), "cpv_codes", "n'est pas un code CPV"),
        (form_data(q=" ".join(f"mot{i}" for i in range(13))), "q", "12 mots-clés au plus"),
        (form_data(q="x" * 5000), "q", "200 caractères"),
        (form_data(value_min="500000", value_max="1000"), "value_max", "inférieure à la valeur minimale"),
        (form_data(value_min="beaucoup"), "value_min", "Saisissez un montant"),
        (form_data(value_min="1e400"), "value_min", "Saisissez un montant"),
        (form_data(buyers="inconnu"), "buyers", "Aucun acheteur public"),
        (form_data(buyers="a" * 900), "buyers", "Aucun acheteur public"),
        (form_data(departments=["75"]), "departments", "75"),
        (form_data(delivery="hourly"), "delivery", "hourly"),
        (form_data(name=""), "name", ""),
        (form_data(cpv_codes=" ".join(["45000000"] * 3 + [f"4{i}000000" for i in range(5, 10)] * 5)), "cpv_codes", ""),
    ],
)
def test_bad_input_is_a_clear_message(client, subscriber, data, field, message):
    sign_in(client, subscriber)
    response = client.post(reverse("alerts:create"), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    key = field or "__all__"
    assert key in errors, errors
    assert message in " ".join(errors[key])
    assert not Alert.objects.exists()


def test_too_many_cpv_codes(subscriber):
    from ebourgogne.consultations.models import CpvCode
    from ebourgogne.core.errors import DomainError

    codes = list(CpvCode.objects.values_list("code", flat=True)[:21])
    with pytest.raises(DomainError, match="20 valeurs au plus"):
        new_alert(subscriber, cpv_codes=codes)


def test_only_company_members_have_alerts(client, buyer_agent):
    sign_in(client, buyer_agent)
    assert "réservées aux membres d'une entreprise" in client.get(reverse("alerts:create")).content.decode()
    response = client.post(reverse("alerts:create"), form_data())
    assert response.status_code == 400
    assert not Alert.objects.exists()


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("alerts:list"))
    assert response.status_code == 302 and "login" in response["Location"]


def test_nobody_reads_or_changes_another_users_alert(client, subscriber, other_subscriber):
    alert = new_alert(subscriber, q="voirie")
    sign_in(client, other_subscriber)
    assert (
        alert.name not in client.get(reverse("alerts:list")).content.decode()
        or not Alert.objects.filter(owner=other_subscriber).exists()
    )
    for name, method in (
        ("alerts:edit", "get"),
        ("alerts:edit", "post"),
        ("alerts:delete", "get"),
        ("alerts:delete", "post"),
        ("alerts:pause", "post"),
        ("alerts:feed_regenerate", "post"),
    ):
        url = reverse(name, args=[alert.pk])
        response = getattr(client, method)(url, form_data(q="piscine") if method == "post" else None)
        assert response.status_code == 404, (name, method)
    alert.refresh_from_db()
    assert alert.q == "voirie" and alert.is_active
    token = alert.feed_token
    assert client.get(reverse("alerts_public:feed", args=[token])).status_code == 200  # the secret is the proof
    tampered = token[:-1] + ("y" if token.endswith("x") else "x")  # (a token ending in "x" made this flaky)
    assert client.get(reverse("alerts_public:feed", args=[tampered])).status_code == 404


def test_edit_pause_delete_and_feed(client, subscriber):
    alert = new_alert(subscriber, q="voirie")
    consultation = published(title="Voirie de la commune")
    tasks.percolate_consultation.call(consultation.pk)
    sign_in(client, subscriber)
    feed = client.get(reverse("alerts_public:feed", args=[alert.feed_token]))
    assert feed["Content-Type"].startswith("application/atom+xml")
    assert "Voirie de la commune" in feed.content.decode()

    response = client.post(reverse("alerts:edit", args=[alert.pk]), form_data(name="Piscines", q="piscine"))
    assert response.status_code == 302
    alert.refresh_from_db()
    assert (alert.name, alert.q) == ("Piscines", "piscine")

    client.post(reverse("alerts:pause", args=[alert.pk]))
    alert.refresh_from_db()
    assert not alert.is_active and not AlertKey.objects.filter(alert=alert).exists()
    client.post(reverse("alerts:pause", args=[alert.pk]), {"active": "1"})
    alert.refresh_from_db()
    assert alert.is_active and AlertKey.objects.filter(alert=alert).exists()

    old = alert.feed_token
    client.post(reverse("alerts:feed_regenerate", args=[alert.pk]))
    alert.refresh_from_db()
    assert alert.feed_token != old
    assert client.get(reverse("alerts_public:feed", args=[old])).status_code == 404

    assert client.get(reverse("alerts:delete", args=[alert.pk])).status_code == 200
    assert client.post(reverse("alerts:delete", args=[alert.pk])).status_code == 302
    assert not Alert.objects.exists()


ONE_CLICK = "List-Unsubscribe=One-Click"


def test_one_click_unsubscribe_without_session_nor_csrf(subscriber):
    alert = new_alert(subscriber, q="voirie")
    url = services.unsubscribe_url(alert).removeprefix(services.settings.BASE_URL)
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url)
    assert page.status_code == 200 and "Me désabonner" in page.content.decode()
    assert 'name="List-Unsubscribe" value="One-Click"' in page.content.decode()  # the form posts the RFC's body
    wrong = browser.post(url, "List-Unsubscribe=Yes", content_type="application/x-www-form-urlencoded")
    assert wrong.status_code == 400
    extra = browser.post(url, ONE_CLICK + "&x=1", content_type="application/x-www-form-urlencoded")
    assert extra.status_code == 400
    alert.refresh_from_db()
    assert alert.is_active
    done = browser.post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded")
    assert done.status_code == 200 and "C'est fait" in done.content.decode()
    alert.refresh_from_db()
    assert not alert.is_active and not AlertKey.objects.filter(alert=alert).exists()
    assert AuditEvent.objects.filter(action="alerts.alert.unsubscribed").count() == 1
    assert browser.post(url, {"List-Unsubscribe": "One-Click"}).status_code == 200  # multipart, twice: no harm
    assert AuditEvent.objects.filter(action="alerts.alert.unsubscribed").count() == 1


def test_tampered_and_expired_unsubscribe_links(client, subscriber, other_subscriber):
    alert = new_alert(subscriber, q="voirie")
    other = new_alert(other_subscriber, q="voirie")
    token = services.unsubscribe_token(alert)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    # Another alert's payload under this link's signature.
    swapped = services.unsubscribe_token(other).split(":")[0] + ":" + token.split(":", 1)[1]
    assert swapped != token
    for bad in (tampered, swapped, "rien"):
        response = client.post(
            reverse("alerts_public:unsubscribe", args=[bad]),
            ONE_CLICK,
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 404
        assert "pas valide" in response.content.decode()
    with time_machine.travel(clock.now() + dt.timedelta(days=181)):
        response = client.get(reverse("alerts_public:unsubscribe", args=[token]))
        assert response.status_code == 410 and "a expiré" in response.content.decode()
        response = client.post(
            reverse("alerts_public:unsubscribe", args=[token]),
            ONE_CLICK,
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 410
    with time_machine.travel(clock.now() + dt.timedelta(days=179)):
        assert client.get(reverse("alerts_public:unsubscribe", args=[token])).status_code == 200
    alert.refresh_from_db()
    other.refresh_from_db()
    assert alert.is_active and other.is_active


def test_followed_consultations_listed_and_stopped(client, subscriber, django_capture_on_commit_callbacks):
    from ebourgogne.dce import services as dce_services
    from ebourgogne.dce.models import Downloader
    from ebourgogne.questions.receivers import followers

    consultation = published(title="Voirie de Nolay")
    company = services.companies_of(subscriber)[0]
    dce_services.register_account_downloader(consultation=consultation, user=subscriber, company=company)
    sign_in(client, subscriber)
    page = client.get(reverse("alerts:list")).content.decode()
    assert "Voirie de Nolay" in page and "Dossier téléchargé" in page
    assert subscriber.email in followers(consultation)
    response = client.post(reverse("alerts:follow_stop", args=[consultation.pk]))
    assert response.status_code == 302
    from django_scopes import scopes_disabled

    with scopes_disabled():
        assert Downloader.objects.get(consultation=consultation, email=subscriber.email).unsubscribed_at is not None
    assert FollowMute.objects.filter(consultation=consultation, email=subscriber.email).exists()
    assert subscriber.email not in followers(consultation)
    # Someone else's consultation: not followed, 404.
    other = published(title="Piscine")
    assert client.post(reverse("alerts:follow_stop", args=[other.pk])).status_code == 404


def test_follow_one_click_link(client, subscriber):
    consultation = published(title="Voirie de Nolay")
    url = services.follow_unsubscribe_url(consultation.pk, "Marie@Exemple.test").removeprefix(
        services.settings.BASE_URL
    )
    assert client.get(url).status_code == 200
    assert client.post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded").status_code == 200
    assert services.is_muted(consultation.pk, "marie@exemple.test")
    bad = url.replace("/desabonnement/", "/desabonnement/x")
    assert client.get(bad).status_code == 404


def test_member_with_several_companies_picks_one(client, subscriber):
    from ebourgogne.testing.factories import CompanyFactory

    second = CompanyFactory(name="Seconde SARL")
    make_member(second, "company_member", subscriber)
    sign_in(client, subscriber)
    response = client.post(reverse("alerts:create"), form_data(company=str(second.pk)))
    assert response.status_code == 302
    assert Alert.objects.get().company == second
    response = client.post(reverse("alerts:create"), form_data(company="999999"))
    assert response.status_code == 400


def test_api_lists_creates_refuses_and_deletes(client, subscriber, other_subscriber):
    import json

    sign_in(client, subscriber)
    created = client.post(
        "/api/v1/alerts/",
        json.dumps({"name": "Voirie", "q": "voirie", "departments": ["21"], "delivery": "immediate"}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["departments"] == ["21"] and body["feed_url"].endswith(".atom")
    bad = client.post(
        "/api/v1/alerts/", json.dumps({"name": "Rien", "cpv_codes": ["12345678"]}), content_type="application/json"
    )
    assert bad.status_code == 422 and bad.json()["field"] == "cpv_codes"
    empty = client.post("/api/v1/alerts/", json.dumps({"name": "Rien"}), content_type="application/json")
    assert empty.status_code == 422 and "sans critère" in empty.json()["detail"]
    assert [alert["name"] for alert in client.get("/api/v1/alerts/").json()] == ["Voirie"]
    sign_in(client, other_subscriber)
    assert client.get("/api/v1/alerts/").json() == []
    assert client.delete(f"/api/v1/alerts/{body['id']}").status_code == 404
    sign_in(client, subscriber)
    assert client.delete(f"/api/v1/alerts/{body['id']}").status_code == 204
    assert not Alert.objects.exists()
