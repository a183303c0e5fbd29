"""Error pages: the right status, a clear message in the visitor's language, never a 500 for bad input."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from ebourgogne.core import views

pytestmark = pytest.mark.django_db


def _english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_unknown_url_is_a_404_page_in_french(client):
    response = client.get("/cette-page-n-existe-pas/")

    assert response.status_code == 404
    page = response.content.decode()
    assert "Page introuvable" in page
    assert '<html lang="fr">' in page


def test_unknown_url_is_a_404_page_in_english_for_an_english_visitor(client):
    response = _english(client).get("/no-such-page/")

    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
    assert '<html lang="en">' in response.content.decode()


def test_accept_language_is_honoured_without_cookie(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")

    assert "Page not found" in response.content.decode()


def test_oversized_form_is_a_413_page_not_a_500(client):
    response = client.post(reverse("account_login"), {"login": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})

    assert response.status_code == 413
    assert "Envoi trop volumineux" in response.content.decode()


def test_oversized_form_in_english(client):
    response = _english(client).post(
        reverse("account_signup"), {"email": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}
    )

    assert response.status_code == 413
    assert "Request too large" in response.content.decode()


def test_too_many_fields_is_a_413_page(client):
    body = "&".join(f"champ{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = client.post(reverse("account_login"), body, content_type="application/x-www-form-urlencoded")

    assert response.status_code == 413
    assert "trop de champs" in response.content.decode()


def test_oversized_api_request_is_a_json_413(client, buyer, buyer_admin):
    from ebourgogne.testing.factories import sign_in

    sign_in(client, buyer_admin)
    body = '{"name": "' + "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + '"}'

    response = client.post(f"/api/v1/organisations/{buyer.slug}/invitations", body, content_type="application/json")

    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_malformed_multipart_body_is_a_400_page(client):
    response = client.post(reverse("account_login"), b"--\r\nnot really multipart", content_type="multipart/form-data")

    assert response.status_code == 400
    assert "Requête invalide" in response.content.decode()


def test_csrf_failure_page_explains_in_the_visitor_language():
    client = Client(enforce_csrf_checks=True)

    french = client.post(reverse("account_login"), {"login": "a@exemple.test", "password": "x"})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.post(reverse("account_login"), {"login": "a@exemple.test", "password": "x"})

    assert french.status_code == english.status_code == 403
    assert "Formulaire expiré" in french.content.decode()
    assert "cookies" in french.content.decode()
    assert "Form expired" in english.content.decode()


def test_permission_denied_page_shows_the_reason():
    from django.core.exceptions import PermissionDenied

    request = RequestFactory().get("/organisations/x/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = views.permission_denied(request, PermissionDenied("Votre rôle ne le permet pas."))

    assert response.status_code == 403
    assert "Votre rôle ne le permet pas." in response.content.decode()


def test_server_error_page_renders_without_touching_the_database(django_assert_num_queries):
    request = RequestFactory().get("/une-page/")

    with django_assert_num_queries(0), translation.override("fr"):
        response = views.server_error(request)

    assert response.status_code == 500
    assert "Erreur du service" in response.content.decode()


def test_an_exception_in_a_view_gives_the_styled_500_page(client, settings):
    from django.urls import path

    from ebourgogne import urls as root

    def boom(request):
        raise RuntimeError("boom")

    settings.ROOT_URLCONF = type(
        "U", (), {"urlpatterns": [path("boum/", boom), *root.urlpatterns], "handler500": root.handler500}
    )
    client.raise_request_exception = False

    response = client.get("/boum/", HTTP_ACCEPT_LANGUAGE="fr")

    assert response.status_code == 500
    assert "Erreur du service" in response.content.decode()


def test_switching_to_english_shows_english_text(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": reverse("portal:home")}, follow=True)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Bourgogne's public services online" in page
    assert "Skip to content" in page
    assert '<html lang="en">' in page


def test_the_language_switch_offers_the_other_language_in_its_own_name(client):
    french = client.get(reverse("portal:home")).content.decode()
    english = _english(client).get(reverse("portal:home")).content.decode()

    assert 'value="en" lang="en">English</button>' in french
    assert 'value="fr" lang="fr">Français</button>' in english
