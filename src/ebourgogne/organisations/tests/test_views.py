"""The organisation pages: forms, messages (in French and in English), statuses, and the invitation flow."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
import time_machine
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from ebourgogne.core import clock
from ebourgogne.organisations.identifiers import siren_with_check_digit, siret_with_check_digit
from ebourgogne.organisations.models import BuyerService, Invitation, Membership, Organisation
from ebourgogne.organisations.roles import OrganisationKind, Role
from ebourgogne.testing.factories import (
    BuyerFactory,
    BuyerServiceFactory,
    CompanyFactory,
    UserFactory,
    give_totp,
    make_invitation,
    make_member,
    sign_in,
)

pytestmark = pytest.mark.django_db

COMPANY_FORM = {
    "name": "Charpentes de l'Auxois",
    "siren": "732 829 320",
    "siret": "",
    "legal_form": "SARL",
    "naf_code": "16.23Z",
    "is_sme": "on",
    "street": "4 rue des Forges",
    "postal_code": "21140",
    "city": "Semur-en-Auxois",
    "insee_code": "21603",
    "department": "21",
    "email": "",
}


def text(response) -> str:
    """The page with entities decoded and white space collapsed."""
    return re.sub(r"\s+", " ", html.unescape(response.content.decode()))


def roles(organisation, user):
    with scopes_disabled():
        return sorted(Membership.objects.filter(organisation=organisation, user=user).values_list("role", flat=True))


# --- Registering a company --------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in_first(client):
    response = client.get(reverse("organisations:create_company"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_registering_a_company(client):
    founder = UserFactory()
    sign_in(client, founder)
    response = client.get(reverse("organisations:create_company"))
    assert response.status_code == 200
    page = text(response)
    for label in ("Raison sociale", "Numéro SIREN", "Code NAF (APE)", "Code INSEE de la commune"):
        assert label in page
    assert 'for="id_siren"' in page and 'aria-describedby="id_siren_helptext"' in page

    response = client.post(reverse("organisations:create_company"), COMPANY_FORM, follow=True)
    company = Organisation.objects.get(kind=OrganisationKind.COMPANY)
    assert response.redirect_chain[-1][0] == reverse("organisations:detail", args=[company.slug])
    assert "vous en êtes l'administrateur" in text(response)
    assert roles(company, founder) == [Role.COMPANY_ADMIN]


def test_an_invalid_siren_is_explained_next_to_the_field_in_french_and_english(client):
    sign_in(client, UserFactory())
    response = client.post(reverse("organisations:create_company"), {**COMPANY_FORM, "siren": "732829321"})
    assert response.status_code == 400
    page = text(response)
    assert "Ce numéro SIREN n'est pas valide" in page
    assert 'aria-invalid="true"' in page and 'id="id_siren_error"' in page

    client.cookies["ebourgogne_language"] = "en"
    response = client.post(reverse("organisations:create_company"), {**COMPANY_FORM, "siren": "732829321"})
    assert response.status_code == 400
    assert "This SIREN number is not valid" in text(response)
    assert not Organisation.objects.filter(kind=OrganisationKind.COMPANY).exists()


def test_a_duplicate_company_is_refused_with_a_way_forward(client, company):
    sign_in(client, UserFactory())
    response = client.post(reverse("organisations:create_company"), {**COMPANY_FORM, "siren": company.siren})
    assert response.status_code == 400
    assert "Demandez à l'un de ses administrateurs de vous inviter" in text(response)
    assert Organisation.objects.filter(kind=OrganisationKind.COMPANY).count() == 1


# --- Dashboard, members -----------------------------------------------------------------------------


def test_the_dashboard_shows_what_the_role_allows(client, buyer, buyer_admin, buyer_agent):
    sign_in(client, buyer_admin)
    page = text(client.get(reverse("organisations:detail", args=[buyer.slug])))
    assert "Commune de Beaune" in page and "Inviter une personne" in page and "Gérer les services" in page
    sign_in(client, buyer_agent)
    page = text(client.get(reverse("organisations:detail", args=[buyer.slug])))
    assert "Inviter une personne" not in page and "Voir les services" in page
    assert "Quitter cette organisation" in page


def test_managers_see_role_forms_members_see_a_list(client, buyer, buyer_admin, buyer_agent):
    sign_in(client, buyer_admin)
    page = text(client.get(reverse("organisations:members", args=[buyer.slug])))
    assert f'action="{reverse("organisations:member_roles", args=[buyer.slug, buyer_agent.pk])}"' in page
    assert "Dernier administrateur" in page
    assert '<th scope="col">' in page and "<caption>" in page
    sign_in(client, buyer_agent)
    page = text(client.get(reverse("organisations:members", args=[buyer.slug])))
    assert "member_roles" not in page and "roles/" not in page
    assert "Alice Administratrice" in page and "Administrateur acheteur" in page


def test_members_page_in_english(client, buyer, buyer_admin):
    sign_in(client, buyer_admin)
    client.cookies["ebourgogne_language"] = "en"
    page = text(client.get(reverse("organisations:members", args=[buyer.slug])))
    assert "Members" in page and "Buyer administrator" in page and "Invite someone" in page


def test_changing_roles_and_the_last_administrator(client, buyer, buyer_admin, buyer_agent):
    sign_in(client, buyer_admin)
    url = reverse("organisations:member_roles", args=[buyer.slug, buyer_agent.pk])
    field = f"member-{buyer_agent.pk}-roles"
    response = client.post(url, {field: [Role.BUYER_AGENT, Role.COMMISSION_MEMBER]})
    assert response.status_code == 302
    assert roles(buyer, buyer_agent) == [Role.BUYER_AGENT, Role.COMMISSION_MEMBER]

    own = reverse("organisations:member_roles", args=[buyer.slug, buyer_admin.pk])
    response = client.post(own, {f"member-{buyer_admin.pk}-roles": [Role.BUYER_AGENT]})
    assert response.status_code == 409
    assert "dernier administrateur" in text(response)
    assert roles(buyer, buyer_admin) == [Role.BUYER_ADMIN]

    response = client.post(url, {field: ["president"]})
    assert response.status_code == 400
    assert roles(buyer, buyer_agent) == [Role.BUYER_AGENT, Role.COMMISSION_MEMBER]


def test_removing_a_member_asks_first(client, buyer, buyer_admin, buyer_agent):
    sign_in(client, buyer_admin)
    url = reverse("organisations:member_remove", args=[buyer.slug, buyer_agent.pk])
    page = text(client.get(url))
    assert "Retirer Bruno Agent de l'organisation" in page and "Agent acheteur" in page
    assert roles(buyer, buyer_agent) == [Role.BUYER_AGENT]
    response = client.post(url, follow=True)
    assert "ne fait plus partie de l'organisation" in text(response)
    assert roles(buyer, buyer_agent) == []

    response = client.post(reverse("organisations:member_remove", args=[buyer.slug, buyer_admin.pk]))
    assert response.status_code == 409 and "dernier administrateur" in text(response)


def test_leaving(client, buyer, buyer_admin, buyer_agent):
    sign_in(client, buyer_agent)
    response = client.post(reverse("organisations:leave", args=[buyer.slug]))
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")
    assert roles(buyer, buyer_agent) == []
    sign_in(client, buyer_admin)
    response = client.post(reverse("organisations:leave", args=[buyer.slug]))
    assert response.status_code == 409
    assert "Vous êtes le dernier administrateur" in text(response)


# --- Invitations ------------------------------------------------------------------------------------


def test_inviting_someone(client, buyer, buyer_admin):
    sign_in(client, buyer_admin)
    page = text(client.get(reverse("organisations:invite", args=[buyer.slug])))
    assert 'type="radio"' in page and "Membre de commission" in page and "Membre entreprise" not in page
    response = client.post(
        reverse("organisations:invite", args=[buyer.slug]), {"email": "nouvelle@exemple.test", "role": Role.BUYER_AGENT}
    )
    assert response.status_code == 302 and response["Location"] == reverse(
        "organisations:invitations", args=[buyer.slug]
    )
    page = text(client.get(response["Location"]))
    assert "nouvelle@exemple.test" in page and "En attente" in page

    response = client.post(
        reverse("organisations:invite", args=[buyer.slug]), {"email": "nouvelle@exemple.test", "role": "company_admin"}
    )
    assert response.status_code == 400
    with scopes_disabled():
        assert Invitation.objects.filter(organisation=buyer).count() == 1


def test_revoking_an_invitation(client, buyer, buyer_admin):
    invitation, _token = make_invitation(buyer, "x@exemple.test", Role.BUYER_AGENT)
    sign_in(client, buyer_admin)
    response = client.post(reverse("organisations:invitation_revoke", args=[buyer.slug, invitation.pk]), follow=True)
    assert "est annulée" in text(response)
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    assert client.get(reverse("organisations:invitation_revoke", args=[buyer.slug, invitation.pk])).status_code == 405


def test_an_anonymous_visitor_is_invited_to_log_in_or_sign_up_and_comes_back(client, buyer):
    _invitation, token = make_invitation(buyer, "recrue@exemple.test", Role.BUYER_AGENT)
    url = reverse("organisations:invitation_accept", args=[token])
    response = client.get(url)
    assert response.status_code == 200
    page = text(response)
    assert "Commune de Beaune" in page and "Agent acheteur" in page and "recrue@exemple.test" in page
    assert f'href="{reverse("account_login")}?next={url.replace("/", "%2F")}"' in page
    assert f'href="{reverse("account_signup")}?next={url.replace("/", "%2F")}"' in page
    # Posting without being signed in changes nothing and leads to the login page.
    response = client.post(url)
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_accepting_an_invitation(client, buyer):
    invitation, token = make_invitation(buyer, "recrue@exemple.test", Role.BUYER_AGENT)
    recruit = UserFactory(email="recrue@exemple.test")
    sign_in(client, recruit)
    url = reverse("organisations:invitation_accept", args=[token])
    assert "Accepter l'invitation" in text(client.get(url))
    response = client.post(url)
    assert response.status_code == 302 and response["Location"] == reverse("organisations:detail", args=[buyer.slug])
    assert roles(buyer, recruit) == [Role.BUYER_AGENT]
    # Buyer staff must have a second factor: the platform now asks for it before anything else.
    assert client.get(response["Location"])["Location"] == reverse("mfa_activate_totp")
    give_totp(recruit)
    # The link works once.
    response = client.get(url)
    assert response.status_code == 410 and "déjà été acceptée" in text(response)


def test_a_signed_in_person_with_another_address_is_told_so(client, buyer):
    _invitation, token = make_invitation(buyer, "recrue@exemple.test", Role.BUYER_AGENT)
    other = UserFactory(email="quelquun@exemple.test")
    sign_in(client, other)
    url = reverse("organisations:invitation_accept", args=[token])
    page = text(client.get(url))
    assert "mais vous êtes connecté avec quelquun@exemple.test" in page and "<form" not in page.split("</header>")[-1]
    response = client.post(url)
    assert response.status_code == 403
    assert roles(buyer, other) == []


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("unknown", 404, "n'est pas reconnu"),
        ("expired", 410, "a expiré"),
        ("revoked", 410, "a été annulée"),
    ],
)
def test_bad_invitation_links(client, buyer, case, status, message):
    invitation, token = make_invitation(buyer, "recrue@exemple.test", Role.BUYER_AGENT)
    if case == "unknown":
        token = "abc"
    if case == "revoked":
        invitation.revoked_at = clock.now()
        with scope(organisation=buyer):
            invitation.save()
    moment = clock.now() + dt.timedelta(days=8) if case == "expired" else clock.now()
    with time_machine.travel(moment):
        response = client.get(reverse("organisations:invitation_accept", args=[token]))
    assert response.status_code == status
    assert message in text(response)
    assert "Commune de Beaune" not in text(response)


def test_bad_invitation_message_in_english(client, buyer):
    client.cookies["ebourgogne_language"] = "en"
    response = client.get(reverse("organisations:invitation_accept", args=["abc"]))
    assert response.status_code == 404 and "This invitation link is not recognised" in text(response)


# --- Services ---------------------------------------------------------------------------------------


def test_managing_services(client, buyer, buyer_admin):
    sign_in(client, buyer_admin)
    response = client.post(
        reverse("organisations:service_create", args=[buyer.slug]), {"name": "Direction des routes", "parent": ""}
    )
    assert response.status_code == 302
    with scope(organisation=buyer):
        direction = BuyerService.objects.get(name="Direction des routes")
    client.post(
        reverse("organisations:service_create", args=[buyer.slug]), {"name": "Centre nord", "parent": direction.pk}
    )
    page = text(client.get(reverse("organisations:services", args=[buyer.slug])))
    assert "Direction des routes" in page and "Centre nord" in page

    response = client.post(
        reverse("organisations:service_create", args=[buyer.slug]), {"name": "direction des routes", "parent": ""}
    )
    assert response.status_code == 400 and "déjà ce nom" in text(response)

    client.post(
        reverse("organisations:service_rename", args=[buyer.slug, direction.pk]), {"name": "Direction des mobilités"}
    )
    page = text(client.get(reverse("organisations:service_delete", args=[buyer.slug, direction.pk])))
    assert "Centre nord" in page  # the sub-services that go with it are listed
    client.post(reverse("organisations:service_delete", args=[buyer.slug, direction.pk]))
    with scope(organisation=buyer):
        assert not BuyerService.objects.exists()


def test_agents_see_services_without_the_forms(client, buyer, buyer_agent):
    BuyerServiceFactory(organisation=buyer, name="Services techniques")
    sign_in(client, buyer_agent)
    page = text(client.get(reverse("organisations:services", args=[buyer.slug])))
    assert "Services techniques" in page and "Ajouter un service" not in page


def test_companies_have_no_services_page(client, company, company_admin):
    sign_in(client, company_admin)
    assert client.get(reverse("organisations:services", args=[company.slug])).status_code == 404


def test_editing_an_organisation(client, company, company_admin):
    sign_in(client, company_admin)
    url = reverse("organisations:edit", args=[company.slug])
    page = text(client.get(url))
    assert "Menuiserie Bourguignonne" in page and "ne peut pas être modifié" in page and 'name="siren"' not in page
    data = {
        "name": "Menuiserie Bourguignonne et Fils",
        "siret": "",
        "legal_form": "SAS",
        "naf_code": "4332A",
        "is_sme": "on",
        "street": "12 rue des Ateliers",
        "postal_code": "21200",
        "city": "Beaune",
        "insee_code": "21054",
        "department": "21",
        "email": "",
    }
    assert client.post(url, {**data, "naf_code": "43"}).status_code == 400
    assert client.post(url, data).status_code == 302
    company.refresh_from_db()
    assert (company.name, company.naf_code) == ("Menuiserie Bourguignonne et Fils", "43.32A")


# --- Operators --------------------------------------------------------------------------------------


def test_operators_search_every_organisation(client, operator):
    BuyerFactory(name="Commune de Tonnerre", city="Tonnerre", postal_code="89700")
    target = CompanyFactory(name="Auxois Paysages")
    for n in range(55):
        CompanyFactory(name=f"Entreprise {n:02d}")
    sign_in(client, operator)
    page = text(client.get(reverse("organisations:operator_list")))
    assert "Page 1 sur 2" in page and "Auxois Paysages" in page
    page = text(client.get(reverse("organisations:operator_list"), {"q": "tonnerre"}))
    assert "Commune de Tonnerre" in page and "Auxois" not in page and "1 organisation trouvée" in page
    page = text(client.get(reverse("organisations:operator_list"), {"q": target.siren[:6], "kind": "company"}))
    assert "Auxois Paysages" in page
    page = text(client.get(reverse("organisations:operator_list"), {"page": 2}))
    assert "Page 2 sur 2" in page


def test_operators_register_a_buyer_from_the_page(client, operator):
    sign_in(client, operator)
    data = {
        "name": "Commune de Vézelay",
        "siret": siret_with_check_digit(siren_with_check_digit("21890446"), "0001"),
        "buyer_kind": "commune",
        "street": "Hôtel de ville",
        "postal_code": "89450",
        "city": "Vézelay",
        "insee_code": "89446",
        "department": "89",
        "email": "",
        "admin_email": "mairie@vezelay.test",
    }
    response = client.post(reverse("organisations:operator_create_buyer"), data, follow=True)
    buyer = Organisation.objects.get(name="Commune de Vézelay")
    assert response.redirect_chain[-1][0] == reverse("organisations:detail", args=[buyer.slug])
    assert "une invitation a été envoyée à mairie@vezelay.test" in text(response)
    with scope(organisation=buyer):
        assert Invitation.objects.get().role == Role.BUYER_ADMIN

    response = client.post(reverse("organisations:operator_create_buyer"), {**data, "admin_email": "x@exemple.test"})
    assert response.status_code == 400 and "déjà inscrit" in text(response)


def test_operator_pages_do_not_exist_for_others(client, buyer_admin):
    sign_in(client, buyer_admin)
    assert client.get(reverse("organisations:operator_list")).status_code == 404
    assert client.get(reverse("organisations:operator_create_buyer")).status_code == 404


def test_member_of_a_company_can_read_but_not_manage(client, company, company_member):
    sign_in(client, company_member)
    assert client.get(reverse("organisations:members", args=[company.slug])).status_code == 200
    response = client.get(reverse("organisations:invite", args=[company.slug]))
    assert response.status_code == 403
    assert "Votre rôle dans cette organisation ne permet pas cette action." in text(response)


def test_a_new_buyer_without_administrator_says_so(client, operator):
    buyer = BuyerFactory()
    make_member(buyer, Role.BUYER_AGENT, UserFactory())
    sign_in(client, operator)
    assert "pas encore d'administrateur" in text(client.get(reverse("organisations:detail", args=[buyer.slug])))
