"""The account overview and the profile page."""

from __future__ import annotations

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.conf import settings
from django.urls import NoReverseMatch, reverse

from ebourgogne.accounts.services import profile_update
from ebourgogne.core.errors import PermissionRefused
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import CompanyFactory, UserFactory, give_totp, make_member, sign_in

pytestmark = pytest.mark.django_db


def _url_or_none(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def test_anonymous_visitors_are_sent_to_login(client):
    for name in ("accounts:home", "accounts:profile"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


def test_home_lists_my_organisations_and_roles(client):
    company = CompanyFactory(name="Tonnellerie de Nuits")
    user = make_member(company, Role.COMPANY_ADMIN)
    sign_in(client, user)

    page = client.get(reverse("accounts:home")).content.decode()

    assert "Tonnellerie de Nuits" in page
    assert "Administrateur entreprise" in page
    detail_url = _url_or_none("organisations:detail", company.slug)
    if detail_url:
        assert f'href="{detail_url}"' in page
    create_url = _url_or_none("organisations:create_company")
    if create_url:
        assert f'href="{create_url}"' in page


def test_home_shows_mfa_status_and_recovery_links(client):
    user = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    sign_in(client, user)
    assert "Non activée — conseillée" in client.get(reverse("accounts:home")).content.decode()

    give_totp(user)
    page = client.get(reverse("accounts:home")).content.decode()
    assert "Activée" in page
    assert reverse("mfa_generate_recovery_codes") in page

    RecoveryCodes.activate(user)
    page = client.get(reverse("accounts:home")).content.decode()
    assert reverse("mfa_view_recovery_codes") in page
    assert "10 codes inutilisés" in page
    assert reverse("account_change_password") in page


def test_profile_update_saves_name_and_language_and_switches_the_interface(client):
    user = UserFactory(full_name="Ancien Nom", language="fr")
    sign_in(client, user)

    response = client.post(reverse("accounts:profile"), {"full_name": "  Jeanne   Durand ", "language": "en"})

    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    user.refresh_from_db()
    assert (user.full_name, user.language) == ("Jeanne Durand", "en")
    page = client.get(response["Location"]).content.decode()
    assert "Your details have been saved." in page


def test_profile_update_is_recorded_in_the_audit_trail(client):
    from ebourgogne.audit.models import AuditEvent

    user = UserFactory(full_name="Ancien Nom")
    sign_in(client, user)

    client.post(reverse("accounts:profile"), {"full_name": "Nouveau Nom", "language": "fr"})

    event = AuditEvent.objects.filter(action="account.profile.updated").get()
    assert event.actor_id == user.pk
    assert event.data == {"full_name": "Nouveau Nom"}


@pytest.mark.parametrize(
    "data",
    [
        {"full_name": "", "language": "fr"},
        {"full_name": "   ", "language": "fr"},
        {"full_name": "Nom", "language": "de"},
        {"full_name": "N" * 201, "language": "fr"},
        {"full_name": "Nom\x00nul", "language": "fr"},
        {},
    ],
)
def test_bad_profile_input_is_refused_with_400_and_nothing_stored(client, data):
    user = UserFactory(full_name="Nom Inchangé", language="fr")
    sign_in(client, user)

    response = client.post(reverse("accounts:profile"), data)

    assert response.status_code == 400
    assert 'aria-invalid="true"' in response.content.decode() or "error-summary" in response.content.decode()
    user.refresh_from_db()
    assert (user.full_name, user.language) == ("Nom Inchangé", "fr")


def test_profile_errors_are_linked_to_their_field(client):
    sign_in(client, UserFactory())

    page = client.post(reverse("accounts:profile"), {"full_name": "", "language": "fr"}).content.decode()

    assert 'aria-describedby="id_full_name_helptext id_full_name_error"' in page
    assert 'id="id_full_name_error"' in page
    assert 'role="alert"' in page


def test_nobody_may_change_someone_else_s_profile():
    user, other = UserFactory(full_name="Victime"), UserFactory()

    with pytest.raises(PermissionRefused):
        profile_update(user=user, acting_user=other, full_name="Pirate", language="fr")

    user.refresh_from_db()
    assert user.full_name == "Victime"


def test_home_links_to_the_api_tokens_page(client):
    user = UserFactory()
    sign_in(client, user)
    html = client.get(reverse("accounts:home")).content.decode()
    assert f'href="{reverse("apitokens:list")}"' in html
    assert client.get(reverse("apitokens:list")).status_code == 200
