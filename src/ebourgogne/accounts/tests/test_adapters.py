"""allauth's mails go out in the recipient's language; the language used at sign-up is kept."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from ebourgogne.accounts.adapters import supported_language
from ebourgogne.testing.factories import DEMO_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Bourgogne-aligote-2024"


def _sign_up(client, email: str, language: str):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.post(
        reverse("account_signup"), {"email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )


def test_sign_up_in_english_keeps_english_and_mails_in_english(client, django_user_model):
    response = _sign_up(client, "jane@example.test", "en")

    assert response.status_code == 302
    user = django_user_model.objects.get(email="jane@example.test")
    assert user.language == "en"
    assert len(mail.outbox) == 1
    assert "Please Confirm Your Email Address" in mail.outbox[0].subject


def test_sign_up_in_french_mails_in_french(client, django_user_model):
    _sign_up(client, "jeanne@exemple.test", "fr")

    assert django_user_model.objects.get(email="jeanne@exemple.test").language == "fr"
    assert "Confirmez votre adresse e-mail" in mail.outbox[0].subject


def test_password_reset_mail_follows_the_account_not_the_page(client):
    UserFactory(email="anglais@exemple.test", language="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    client.post(reverse("account_reset_password"), {"email": "anglais@exemple.test"})

    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.endswith("Password Reset Email")


def test_a_mail_to_an_unknown_address_uses_the_page_language(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    client.post(reverse("account_reset_password"), {"email": "inconnu@exemple.test"})

    # allauth tells an unknown address that it has no account (enumeration-safe), in the page's language.
    assert len(mail.outbox) == 1
    assert re.search(r"[A-Za-z]", mail.outbox[0].subject)
    assert "Unknown Account" in mail.outbox[0].subject


def test_login_switches_the_interface_to_the_account_language(client):
    UserFactory(email="english@example.test", language="en")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"

    response = client.post(reverse("account_login"), {"login": "english@example.test", "password": DEMO_PASSWORD})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get(response["Location"])
    assert "My account" in page.content.decode()


@pytest.mark.parametrize(
    ("code", "expected"), [("en", "en"), ("en-gb", "en"), ("fr-FR", "fr"), ("de", "fr"), (None, "fr"), ("", "fr")]
)
def test_supported_language(code, expected):
    assert supported_language(code) == expected
