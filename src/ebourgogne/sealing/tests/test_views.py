"""The personal opening key pages: status, set up, rotate, replace a lost key; clear refusals."""

from __future__ import annotations

import pytest
from django.urls import reverse

from ebourgogne.sealing.models import PersonalKey
from ebourgogne.sealing.services import active_key, personal_key_create
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db

GOOD = "une longue phrase secrète"


def test_anonymous_visitors_are_sent_to_the_login_page(client):
    response = client.get(reverse("sealing:home"))
    assert response.status_code == 302
    assert "next=" in response["Location"]


def test_account_page_links_to_the_key_page(client, commission_member):
    sign_in(client, commission_member)
    assert reverse("sealing:home") in client.get(reverse("accounts:home")).content.decode()


def test_set_up_then_status(client, commission_member):
    sign_in(client, commission_member)
    page = client.get(reverse("sealing:home")).content.decode()
    assert "pas encore de clé" in page and "Si vous perdez votre phrase secrète" in page
    response = client.post(reverse("sealing:set_up"), {"passphrase": GOOD, "passphrase_again": GOOD})
    assert response.status_code == 302
    key = active_key(commission_member)
    page = client.get(reverse("sealing:home")).content.decode()
    assert key.recipient in page and "Clé créée" in page
    assert GOOD not in page


@pytest.mark.parametrize(
    "data,message",
    [
        ({"passphrase": "court", "passphrase_again": "court"}, "au moins 12 caractères"),
        ({"passphrase": GOOD, "passphrase_again": GOOD + "!"}, "pas identiques"),
        ({}, "obligatoire"),
    ],
)
def test_set_up_refusals_are_clear_and_store_nothing(client, commission_member, data, message):
    sign_in(client, commission_member)
    response = client.post(reverse("sealing:set_up"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not PersonalKey.objects.exists()
    if data.get("passphrase"):
        assert f'value="{data["passphrase"]}"' not in response.content.decode()  # never echoed back


def test_rotate_with_the_wrong_then_the_right_passphrase(client, commission_member):
    personal_key_create(user=commission_member, passphrase=GOOD)
    sign_in(client, commission_member)
    new = "une autre phrase secrète"
    response = client.post(
        reverse("sealing:rotate"), {"old_passphrase": "mauvaise phrase!", "passphrase": new, "passphrase_again": new}
    )
    assert response.status_code == 400 and "actuelle est incorrecte" in response.content.decode()
    assert PersonalKey.objects.count() == 1
    response = client.post(
        reverse("sealing:rotate"), {"old_passphrase": GOOD, "passphrase": new, "passphrase_again": new}
    )
    assert response.status_code == 302
    assert PersonalKey.objects.count() == 2 and PersonalKey.objects.filter(retired_at__isnull=True).count() == 1


def test_replace_lost_needs_the_confirmation(client, commission_member):
    old = personal_key_create(user=commission_member, passphrase=GOOD)
    sign_in(client, commission_member)
    new = "une autre phrase secrète"
    response = client.post(reverse("sealing:replace_lost"), {"passphrase": new, "passphrase_again": new})
    assert response.status_code == 400
    assert active_key(commission_member) == old
    response = client.post(
        reverse("sealing:replace_lost"), {"passphrase": new, "passphrase_again": new, "confirm": "on"}
    )
    assert response.status_code == 302
    assert active_key(commission_member) != old


def test_get_on_post_only_urls_is_refused(client, commission_member):
    sign_in(client, commission_member)
    for name in ("set_up", "rotate", "replace_lost"):
        assert client.get(reverse(f"sealing:{name}")).status_code == 405
