"""Account and MFA events are recorded from the real allauth views, driven with the test client."""

from __future__ import annotations

import json

import pytest
from allauth.account.forms import default_token_generator
from allauth.account.models import EmailAddress, EmailConfirmationHMAC
from allauth.account.utils import user_pk_to_url_str
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, format_hotp_value, hotp_value
from allauth.mfa.totp.internal.auth import yield_hotp_counters_from_time as counters
from django.contrib.auth import get_user_model
from django.urls import reverse

from ebourgogne.audit.integrity import verify_chain
from ebourgogne.audit.models import AuditEvent
from ebourgogne.testing.factories import DEMO_PASSWORD, UserFactory, give_totp

pytestmark = pytest.mark.django_db

User = get_user_model()
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) Essai/1.0"
NEW_PASSWORD = "un-nouveau-mot-de-passe-42!"


@pytest.fixture
def client(client):
    client.defaults["HTTP_USER_AGENT"] = BROWSER
    return client


@pytest.fixture
def person():
    return UserFactory(email="camille@exemple.test")


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


def only(action: str) -> AuditEvent:
    found = events(action)
    assert len(found) == 1, f"{action}: {[event.action for event in AuditEvent.objects.order_by('seq')]}"
    return found[0]


def log_in(client, email: str, password: str = DEMO_PASSWORD):
    return client.post(reverse("account_login"), {"login": email, "password": password})


def current_totp(secret: str) -> str:
    window = list(counters())
    return format_hotp_value(hotp_value(secret, window[len(window) // 2]))


def test_sign_up_and_email_confirmation(client):
    response = client.post(
        reverse("account_signup"),
        {"email": "nouvelle@exemple.test", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get(email="nouvelle@exemple.test")
    signup = only("account.signup")
    assert (signup.actor_id, signup.actor_label) == (user.pk, "nouvelle@exemple.test")
    assert (signup.object_type, signup.object_id) == ("accounts.user", str(user.pk))
    assert signup.ip_address == "127.0.0.1"
    assert signup.user_agent == BROWSER
    assert NEW_PASSWORD not in json.dumps(signup.data)

    key = EmailConfirmationHMAC(EmailAddress.objects.get(user=user)).key
    response = client.post(reverse("account_confirm_email", kwargs={"key": key}))
    assert response.status_code == 302
    confirmed = only("account.email.confirmed")
    assert confirmed.actor_id == user.pk
    assert confirmed.data == {"email": "nouvelle@exemple.test"}
    assert verify_chain().ok


def test_login_and_logout(client, person):
    response = log_in(client, person.email)
    assert response.status_code == 302
    login = only("account.login")
    assert (login.actor_id, login.actor_label, login.ip_address, login.user_agent) == (
        person.pk,
        "camille@exemple.test",
        "127.0.0.1",
        BROWSER,
    )
    client.post(reverse("account_logout"))
    logout = only("account.logout")
    assert logout.actor_id == person.pk


def test_failed_login_records_the_email_never_the_password(client, person):
    wrong = "pas-le-bon-mot-de-passe-XYZ"
    response = log_in(client, person.email, wrong)
    assert response.status_code == 200
    failed = only("account.login.failed")
    assert failed.actor_id is None
    assert failed.data == {"email": "camille@exemple.test"}
    assert failed.ip_address == "127.0.0.1"
    stored = AuditEvent.objects.filter(seq=failed.seq).values_list("data", "actor_label", "object_label", "user_agent")[
        0
    ]
    assert wrong not in json.dumps(stored)
    assert not events("account.login")


def test_failed_login_with_an_unknown_address(client):
    log_in(client, "inconnu@exemple.test", "n-importe-quoi-123")
    assert only("account.login.failed").data == {"email": "inconnu@exemple.test"}


def test_password_change(client, person):
    log_in(client, person.email)
    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": DEMO_PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    changed = only("account.password.changed")
    assert changed.actor_id == person.pk
    assert NEW_PASSWORD not in json.dumps(changed.data)


def test_password_reset_from_the_emailed_link(client, person):
    url = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(person), "key": default_token_generator.make_token(person)},
    )
    response = client.get(url)
    assert response.status_code == 302  # allauth moves the key to the session, then shows the form
    response = client.post(response.url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    reset = only("account.password.reset")
    assert reset.actor_id == person.pk
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)


def test_mfa_added_recovery_codes_regenerated_and_removed(client, person, django_capture_on_commit_callbacks):
    log_in(client, person.email)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session[SECRET_SESSION_KEY]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_activate_totp"), {"code": current_totp(secret)})
    assert response.status_code == 302
    added = events("account.mfa.added")
    assert sorted(event.data["type"] for event in added) == ["recovery_codes", "totp"]
    assert all(event.actor_id == person.pk for event in added)
    assert secret not in json.dumps([event.data for event in added])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_generate_recovery_codes"))
    assert response.status_code == 302
    regenerated = only("account.mfa.recovery_codes.regenerated")
    assert regenerated.data == {"type": "recovery_codes"}
    codes = Authenticator.objects.get(user=person, type="recovery_codes").wrap().get_unused_codes()
    assert not any(code in json.dumps(regenerated.data) for code in codes)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302
    removed = events("account.mfa.removed")
    assert sorted(event.data["type"] for event in removed) == ["recovery_codes", "totp"]
    assert verify_chain().ok


def test_wrong_mfa_code_at_login(client, person):
    give_totp(person)
    response = log_in(client, person.email)
    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    client.post(reverse("mfa_authenticate"), {"code": "000000"})
    failed = only("account.mfa.failed")
    assert (failed.object_type, failed.object_id) == ("accounts.user", str(person.pk))
    assert failed.data["type"] == "totp"
    assert "000000" not in json.dumps(failed.data)
    assert not events("account.login")
