"""Bad input on the account pages: a clear message in the visitor's language, the right status, nothing
stored half-way, and no way to learn whether an address has an account."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import translation

from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import DEMO_PASSWORD, BuyerFactory, UserFactory, make_member, totp_secret

User = get_user_model()
STRONG = "Une-phrase-de-passe-solide-42"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def _signup(client, email, password1=STRONG, password2=STRONG, language="fr"):
    return client.post(
        reverse("account_signup"),
        {"email": email, "password1": password1, "password2": password2},
        HTTP_ACCEPT_LANGUAGE=language,
    )


@pytest.mark.django_db
def test_signup_with_an_address_already_registered_reveals_nothing_and_creates_nothing():
    existing = UserFactory(email="deja@exemple.test")
    client = Client()
    response = _signup(client, "DEJA@exemple.test")
    # Same answer as for a new address (no account enumeration)...
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    # ...but no second account, and the owner is told someone tried.
    assert User.objects.filter(email__iexact="deja@exemple.test").count() == 1
    assert EmailAddress.objects.filter(email__iexact="deja@exemple.test").count() == 1
    assert [message.to for message in mail.outbox] == [[existing.email]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "Vous devez saisir deux fois le même mot de passe"), ("en", "You must type the same password each time")],
)
def test_signup_with_mismatched_passwords_says_so_in_the_visitor_language(client, language, expected):
    response = _signup(client, "nouvelle@exemple.test", password2=STRONG + "x", language=language)
    assert response.status_code in (200, 400)
    assert expected in response.content.decode()
    assert not User.objects.filter(email="nouvelle@exemple.test").exists()
    assert mail.outbox == []


@pytest.mark.django_db
def test_signup_with_a_weak_password_is_refused_and_stores_nothing(client):
    response = _signup(client, "faible@exemple.test", password1="123456", password2="123456")
    body = response.content.decode()
    assert response.status_code in (200, 400)
    assert "trop court" in body or "trop courant" in body
    assert not User.objects.filter(email="faible@exemple.test").exists()


@pytest.mark.django_db
def test_signup_with_a_malformed_address_is_refused(client):
    response = _signup(client, "pas-une-adresse")
    assert response.status_code in (200, 400)
    assert "Saisissez une adresse de courriel valide" in response.content.decode()
    assert User.objects.count() == 0


@pytest.mark.django_db
def test_wrong_mfa_code_keeps_the_person_signed_out(client):
    agent = make_member(BuyerFactory(), Role.BUYER_AGENT)
    assert totp_secret(agent), "a buyer agent signs in with a second factor"
    response = client.post(reverse("account_login"), {"login": agent.email, "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(reverse("mfa_authenticate"), {"code": "000000"}, HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 200
    assert "Code incorrect" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("accounts:home")).status_code == 302


@pytest.mark.django_db
def test_repeated_failed_logins_are_throttled_with_a_clear_message(client):
    user = UserFactory(email="cible@exemple.test")
    statuses = []
    for _ in range(7):
        response = client.post(
            reverse("account_login"),
            {"login": user.email, "password": "mauvais-mot-de-passe"},
            HTTP_ACCEPT_LANGUAGE="fr",
        )
        statuses.append(response.status_code)
    body = response.content.decode()
    assert statuses[-1] in (200, 429)
    assert "Trop de tentatives" in body or "trop de tentatives" in body.lower()
    # Even the right password is refused while the limit holds.
    client.post(reverse("account_login"), {"login": user.email, "password": DEMO_PASSWORD})
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_the_429_page_is_ours_and_translated(rf):
    from allauth.core.internal.ratelimit import respond_429

    request = rf.get("/")
    with translation.override("fr"):
        response = respond_429(request)
    assert response.status_code == 429
    assert "Trop de tentatives" in response.content.decode()
    with translation.override("en"):
        response = respond_429(request)
    assert "Too many attempts" in response.content.decode()


def test_passwords_are_hashed_with_argon2_in_production():
    from ebourgogne import settings as production_settings

    assert production_settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


@pytest.mark.django_db
def test_argon2_hash_is_produced_when_it_is_the_first_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = User.objects.create_user("argon@exemple.test", password=STRONG)
    assert identify_hasher(user.password).algorithm == "argon2"
    assert user.check_password(STRONG)
