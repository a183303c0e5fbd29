"""The rules of organisations, memberships and invitations, through the services (the only way in)."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.db import connection
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations import services
from ebourgogne.organisations.identifiers import siren_with_check_digit, siret_with_check_digit
from ebourgogne.organisations.models import BuyerService, Invitation, Membership, Organisation
from ebourgogne.organisations.roles import OrganisationKind, Role
from ebourgogne.organisations.services import InvalidData
from ebourgogne.testing.factories import BuyerServiceFactory, UserFactory, make_member, make_operator

pytestmark = pytest.mark.django_db

COMPANY = {
    "name": "Charpentes de l'Auxois",
    "siren": "732 829 320",
    "siret": "73282932000074",
    "legal_form": "SARL",
    "naf_code": "1623Z",
    "is_sme": True,
    "street": "4 rue des Forges",
    "postal_code": "21140",
    "city": "Semur-en-Auxois",
    "insee_code": "21603",
    "department": "21",
}
BUYER = {
    "name": "Commune de Meursault",
    "siret": siret_with_check_digit(siren_with_check_digit("21210412"), "0001"),
    "buyer_kind": "commune",
    "street": "Hôtel de ville",
    "postal_code": "21190",
    "city": "Meursault",
    "insee_code": "21412",
    "department": "21",
    "admin_email": "Maire@Meursault.test",
}


def memberships(organisation):
    with scopes_disabled():
        return sorted(Membership.objects.filter(organisation=organisation).values_list("user__email", "role"))


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("seq"))


# --- Companies --------------------------------------------------------------------------------------


def test_a_signed_in_person_registers_a_company_and_becomes_its_administrator():
    founder = UserFactory(email="fondatrice@exemple.test")
    company = services.company_register(acting_user=founder, **COMPANY)
    assert company.kind == OrganisationKind.COMPANY
    assert (company.siren, company.siret, company.naf_code) == ("732829320", "73282932000074", "16.23Z")
    assert company.slug == "charpentes-de-lauxois"
    assert memberships(company) == [("fondatrice@exemple.test", Role.COMPANY_ADMIN)]
    (event,) = events("org.company.registered")
    assert (event.actor_id, event.organisation_id, event.data["siren"]) == (founder.pk, company.pk, "732829320")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("siren", "732829321", "clé de contrôle"),
        ("siren", "12345", "9 chiffres"),
        ("siret", siret_with_check_digit("404833048", "0001"), "9 premiers chiffres"),
        ("siret", "73282932000075", "clé de contrôle"),
        ("naf_code", "62.01", "4 chiffres et une lettre"),
        ("insee_code", "89024", "ne correspond pas au département"),
        ("postal_code", "2114", "5 chiffres"),
        ("legal_form", "Société pirate", "forme juridique"),
        ("name", "   ", "raison sociale"),
    ],
)
def test_bad_company_data_is_refused_field_by_field_and_nothing_is_stored(field, value, message):
    founder = UserFactory()
    with pytest.raises(InvalidData) as refused:
        services.company_register(acting_user=founder, **{**COMPANY, field: value})
    assert field in refused.value.errors and message in refused.value.errors[field][0]
    assert not Organisation.objects.filter(kind=OrganisationKind.COMPANY).exists()
    assert not events("org.company.registered")


def test_a_company_is_registered_once():
    services.company_register(acting_user=UserFactory(), **COMPANY)
    with pytest.raises(InvalidData) as refused:
        services.company_register(acting_user=UserFactory(), **{**COMPANY, "name": "Autre nom"})
    assert "déjà inscrite" in refused.value.errors["siren"][0]
    assert Organisation.objects.filter(siren="732829320").count() == 1


def test_anonymous_visitors_register_nothing():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionRefused):
        services.company_register(acting_user=AnonymousUser(), **COMPANY)


def test_slugs_never_shadow_fixed_pages_nor_each_other():
    first = services.company_register(acting_user=UserFactory(), **{**COMPANY, "name": "Exploitation"})
    assert first.slug != "exploitation" and first.slug.startswith("exploitation-")
    second = services.company_register(
        acting_user=UserFactory(),
        **{**COMPANY, "name": "Charpentes de l'Auxois", "siren": "404833048", "siret": ""},
    )
    third = services.company_register(
        acting_user=UserFactory(),
        **{**COMPANY, "name": "Charpentes de l'Auxois", "siren": siren_with_check_digit("55200844"), "siret": ""},
    )
    assert len({first.slug, second.slug, third.slug}) == 3


# --- Buyers -----------------------------------------------------------------------------------------


def test_operators_register_buyers_and_invite_their_first_administrator(operator):
    buyer, invitation = services.buyer_register(acting_user=operator, **BUYER)
    assert (buyer.kind, buyer.buyer_kind, buyer.siren) == (OrganisationKind.BUYER, "commune", "212104129")
    assert memberships(buyer) == []
    assert (invitation.email, invitation.role, invitation.organisation) == (
        "maire@meursault.test",
        Role.BUYER_ADMIN,
        buyer,
    )
    assert events("org.buyer.registered") and events("org.member.invited")


def test_only_operators_register_buyers(buyer_admin):
    with pytest.raises(PermissionRefused):
        services.buyer_register(acting_user=buyer_admin, **BUYER)
    assert not Organisation.objects.filter(siret=BUYER["siret"]).exists()


def test_a_buyer_siret_is_registered_once_and_must_be_valid(operator):
    services.buyer_register(acting_user=operator, **BUYER)
    with pytest.raises(InvalidData) as duplicate:
        services.buyer_register(acting_user=operator, **{**BUYER, "admin_email": "autre@exemple.test"})
    assert "déjà inscrit" in duplicate.value.errors["siret"][0]
    with pytest.raises(InvalidData) as invalid:
        services.buyer_register(acting_user=operator, **{**BUYER, "siret": "21210412900011", "buyer_kind": "planet"})
    assert set(invalid.value.errors) == {"siret", "buyer_kind"}
    assert Organisation.objects.filter(kind=OrganisationKind.BUYER).count() == 1


# --- Editing ----------------------------------------------------------------------------------------


def test_administrators_edit_their_organisation_and_the_change_is_logged(buyer, buyer_admin):
    services.organisation_update(
        acting_user=buyer_admin, organisation=buyer, name="Ville de Beaune", email="marches@beaune.test"
    )
    buyer.refresh_from_db()
    assert (buyer.name, buyer.email) == ("Ville de Beaune", "marches@beaune.test")
    (event,) = events("org.organisation.updated")
    assert event.data["changes"]["name"] == ["Commune de Beaune", "Ville de Beaune"]


def test_editing_checks_rights_fields_and_values(buyer, buyer_admin, buyer_agent, company, company_admin):
    with pytest.raises(PermissionRefused):
        services.organisation_update(acting_user=buyer_agent, organisation=buyer, name="Piratée")
    with pytest.raises(NotFound):
        services.organisation_update(acting_user=company_admin, organisation=buyer, name="Piratée")
    with pytest.raises(DomainError, match="siret"):
        services.organisation_update(acting_user=buyer_admin, organisation=buyer, siret="73282932000074")
    with pytest.raises(InvalidData) as invalid:
        services.organisation_update(
            acting_user=company_admin, organisation=company, naf_code="6201", siret="73282932000074"
        )
    assert set(invalid.value.errors) == {"naf_code", "siret"}
    buyer.refresh_from_db()
    company.refresh_from_db()
    assert buyer.name == "Commune de Beaune" and company.naf_code == "43.32A"


# --- Invitations ------------------------------------------------------------------------------------


def test_an_invitation_stores_only_the_hash_of_its_token_and_lasts_seven_days(buyer, buyer_admin):
    with time_machine.travel(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC), tick=False):
        invitation, token = services.invitation_create(
            acting_user=buyer_admin, organisation=buyer, email=" Nouvel.Agent@Exemple.TEST ", role=Role.BUYER_AGENT
        )
    assert invitation.email == "nouvel.agent@exemple.test"
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    with scopes_disabled():
        stored = str(Invitation.objects.filter(pk=invitation.pk).values().get())
    assert len(token) >= 40 and token not in stored
    assert invitation.expires_at == dt.datetime(2026, 3, 9, 9, 0, tzinfo=dt.UTC)
    (event,) = events("org.member.invited")
    assert token not in str(event.data) and event.data["role"] == Role.BUYER_AGENT


def test_invitations_offer_only_the_roles_of_the_organisations_kind(buyer, buyer_admin, company, company_admin):
    with pytest.raises(InvalidData) as refused:
        services.invitation_create(
            acting_user=buyer_admin, organisation=buyer, email="x@exemple.test", role=Role.COMPANY_MEMBER
        )
    assert "role" in refused.value.errors
    with pytest.raises(InvalidData):
        services.invitation_create(
            acting_user=company_admin, organisation=company, email="x@exemple.test", role=Role.PLATFORM_OPERATOR
        )
    with pytest.raises(InvalidData) as bad_email:
        services.invitation_create(
            acting_user=buyer_admin, organisation=buyer, email="pas-une-adresse", role=Role.BUYER_AGENT
        )
    assert "email" in bad_email.value.errors
    with scopes_disabled():
        assert not Invitation.objects.exists()


def test_no_duplicate_invitation_nor_invitation_of_someone_who_has_the_role(buyer, buyer_admin, buyer_agent):
    with pytest.raises(InvalidData, match="déjà ce rôle"):
        services.invitation_create(
            acting_user=buyer_admin, organisation=buyer, email=buyer_agent.email.upper(), role=Role.BUYER_AGENT
        )
    services.invitation_create(
        acting_user=buyer_admin, organisation=buyer, email="new@exemple.test", role=Role.BUYER_AGENT
    )
    with pytest.raises(InvalidData, match="attend déjà"):
        services.invitation_create(
            acting_user=buyer_admin, organisation=buyer, email="new@exemple.test", role=Role.BUYER_AGENT
        )
    # Another role, or the same once the first invitation expired, is fine.
    services.invitation_create(
        acting_user=buyer_admin, organisation=buyer, email="new@exemple.test", role=Role.COMMISSION_MEMBER
    )
    with time_machine.travel(clock.now() + dt.timedelta(days=8)):
        services.invitation_create(
            acting_user=buyer_admin, organisation=buyer, email="new@exemple.test", role=Role.BUYER_AGENT
        )


def test_only_managers_invite(buyer, buyer_agent, outsider):
    with pytest.raises(PermissionRefused):
        services.invitation_create(
            acting_user=buyer_agent, organisation=buyer, email="x@exemple.test", role=Role.BUYER_AGENT
        )
    with pytest.raises(NotFound):
        services.invitation_create(
            acting_user=outsider, organisation=buyer, email="x@exemple.test", role=Role.BUYER_AGENT
        )


def _invite(buyer, buyer_admin, email="recrue@exemple.test", role=Role.BUYER_AGENT):
    return services.invitation_create(acting_user=buyer_admin, organisation=buyer, email=email, role=role)


def test_accepting_an_invitation_gives_the_role_once(buyer, buyer_admin):
    invitation, token = _invite(buyer, buyer_admin)
    recruit = UserFactory(email="Recrue@Exemple.test")
    membership = services.invitation_accept(user=recruit, token=token)
    assert (membership.organisation, membership.user, membership.role) == (buyer, recruit, Role.BUYER_AGENT)
    invitation.refresh_from_db()
    assert invitation.accepted_by == recruit and invitation.accepted_at is not None
    assert events("org.invitation.accepted")[0].actor_id == recruit.pk

    with pytest.raises(DomainError) as reused:
        services.invitation_accept(user=recruit, token=token)
    assert reused.value.code == "invitation_used"
    assert memberships(buyer).count(("recrue@exemple.test", Role.BUYER_AGENT)) == 1


@pytest.mark.parametrize("case", ["expired", "revoked", "unknown", "wrong_email"])
def test_a_bad_invitation_is_refused_clearly_and_stores_nothing(buyer, buyer_admin, case):
    invitation, token = _invite(buyer, buyer_admin)
    recruit = UserFactory(email="recrue@exemple.test")
    before = memberships(buyer)
    if case == "revoked":
        services.invitation_revoke(acting_user=buyer_admin, invitation=invitation)
    if case == "unknown":
        token = token[:-2] + "xx"
    if case == "wrong_email":
        recruit = UserFactory(email="quelquun.dautre@exemple.test")
    moment = clock.now() + dt.timedelta(days=7, seconds=1) if case == "expired" else clock.now()
    with time_machine.travel(moment), pytest.raises(DomainError) as refused:
        services.invitation_accept(user=recruit, token=token)
    assert refused.value.code == f"invitation_{case}"
    assert refused.value.message and "invitation" in refused.value.message.lower()
    assert memberships(buyer) == before
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert not events("org.invitation.accepted")


def test_an_invitation_can_be_accepted_with_a_second_verified_address(buyer, buyer_admin):
    _invitation, token = _invite(buyer, buyer_admin, email="pro@exemple.test")
    person = UserFactory(email="perso@exemple.test")
    EmailAddress.objects.create(user=person, email="pro@exemple.test", verified=False, primary=False)
    with pytest.raises(DomainError):
        services.invitation_accept(user=person, token=token)
    EmailAddress.objects.filter(user=person, email="pro@exemple.test").update(verified=True)
    assert services.invitation_accept(user=person, token=token).user == person


def test_revoking_an_invitation(buyer, buyer_admin, buyer_agent):
    invitation, _token = _invite(buyer, buyer_admin)
    with pytest.raises(PermissionRefused):
        services.invitation_revoke(acting_user=buyer_agent, invitation=invitation)
    services.invitation_revoke(acting_user=buyer_admin, invitation=invitation)
    invitation.refresh_from_db()
    assert invitation.status == "revoked"
    with pytest.raises(DomainError, match="déjà annulée"):
        services.invitation_revoke(acting_user=buyer_admin, invitation=invitation)


def test_accepting_an_operator_invitation_opens_the_admin_site(operator, platform):
    _invitation, token = services.invitation_create(
        acting_user=operator, organisation=platform, email="relai@exemple.test", role=Role.PLATFORM_OPERATOR
    )
    colleague = UserFactory(email="relai@exemple.test")
    services.invitation_accept(user=colleague, token=token)
    colleague.refresh_from_db()
    assert colleague.is_staff


# --- Roles, removal, leaving: the last administrator stays ------------------------------------------


def test_granting_and_revoking_roles(buyer, buyer_admin, buyer_agent):
    services.membership_role_grant(
        acting_user=buyer_admin, organisation=buyer, user=buyer_agent, role=Role.COMMISSION_MEMBER
    )
    assert (buyer_agent.email, Role.COMMISSION_MEMBER) in memberships(buyer)
    with pytest.raises(DomainError, match="déjà ce rôle"):
        services.membership_role_grant(
            acting_user=buyer_admin, organisation=buyer, user=buyer_agent, role=Role.COMMISSION_MEMBER
        )
    services.membership_role_revoke(
        acting_user=buyer_admin, organisation=buyer, user=buyer_agent, role=Role.BUYER_AGENT
    )
    assert [role for email, role in memberships(buyer) if email == buyer_agent.email] == [Role.COMMISSION_MEMBER]
    assert [e.data["role"] for e in events("org.member.role_granted")][-1] == Role.COMMISSION_MEMBER
    assert events("org.member.role_revoked")[0].data["role"] == Role.BUYER_AGENT


def test_roles_go_only_to_members_and_only_from_the_organisations_kind(buyer, buyer_admin, outsider, company_admin):
    with pytest.raises(NotFound, match="Invitez-la"):
        services.membership_role_grant(
            acting_user=buyer_admin, organisation=buyer, user=outsider, role=Role.BUYER_AGENT
        )
    with pytest.raises(InvalidData):
        services.membership_role_grant(
            acting_user=buyer_admin, organisation=buyer, user=buyer_admin, role=Role.COMPANY_ADMIN
        )
    assert (outsider.email, Role.BUYER_AGENT) not in memberships(buyer)


def test_the_last_administrator_keeps_the_role_cannot_be_removed_and_cannot_leave(buyer, buyer_admin, buyer_agent):
    with pytest.raises(DomainError) as revoke:
        services.membership_role_revoke(
            acting_user=buyer_admin, organisation=buyer, user=buyer_admin, role=Role.BUYER_ADMIN
        )
    with pytest.raises(DomainError) as remove:
        services.member_remove(acting_user=buyer_admin, organisation=buyer, user=buyer_admin)
    with pytest.raises(DomainError) as leave:
        services.membership_leave(user=buyer_admin, organisation=buyer)
    assert {revoke.value.code, remove.value.code, leave.value.code} == {"last_admin"}
    assert "dernier administrateur" in leave.value.message
    assert (buyer_admin.email, Role.BUYER_ADMIN) in memberships(buyer)

    # With a second administrator, the first one may go.
    services.membership_role_grant(acting_user=buyer_admin, organisation=buyer, user=buyer_agent, role=Role.BUYER_ADMIN)
    services.membership_leave(user=buyer_admin, organisation=buyer)
    assert buyer_admin.email not in {email for email, _role in memberships(buyer)}
    assert events("org.member.left")[0].data["roles"] == [Role.BUYER_ADMIN]


def test_setting_roles_is_all_or_nothing(buyer, buyer_admin):
    # Adds commission member, then fails on removing the last admin role: nothing stays.
    with pytest.raises(DomainError, match="dernier administrateur"):
        services.membership_roles_set(
            acting_user=buyer_admin, organisation=buyer, user=buyer_admin, roles=[Role.COMMISSION_MEMBER]
        )
    assert [role for email, role in memberships(buyer) if email == buyer_admin.email] == [Role.BUYER_ADMIN]


def test_removing_and_leaving(buyer, buyer_admin, buyer_agent, commission_member):
    services.member_remove(acting_user=buyer_admin, organisation=buyer, user=buyer_agent)
    services.membership_leave(user=commission_member, organisation=buyer)
    assert memberships(buyer) == [(buyer_admin.email, Role.BUYER_ADMIN)]
    with pytest.raises(NotFound):
        services.member_remove(acting_user=buyer_admin, organisation=buyer, user=buyer_agent)
    with pytest.raises(NotFound):
        services.membership_leave(user=buyer_agent, organisation=buyer)
    assert events("org.member.removed")[0].data == {"user": buyer_agent.email, "roles": [Role.BUYER_AGENT]}


def test_members_without_the_role_cannot_manage_members(buyer, buyer_agent, commission_member):
    with pytest.raises(PermissionRefused):
        services.member_remove(acting_user=buyer_agent, organisation=buyer, user=commission_member)
    with pytest.raises(PermissionRefused):
        services.membership_role_grant(
            acting_user=buyer_agent, organisation=buyer, user=buyer_agent, role=Role.BUYER_ADMIN
        )
    assert (buyer_agent.email, Role.BUYER_ADMIN) not in memberships(buyer)


@pytest.mark.django_db(transaction=True)
def test_two_administrators_removing_each_other_at_once_leave_one_administrator():
    """Both requests pass the last-admin check only if they run one after the other: the organisation
    row lock makes the second one see the first one's removal."""
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (row locks between two connections): run with DATABASE_URL=postgres://...")
    from ebourgogne.testing.factories import BuyerFactory

    buyer = BuyerFactory()
    first, second = make_member(buyer, Role.BUYER_ADMIN), make_member(buyer, Role.BUYER_ADMIN)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def remove(actor, target):
        from django.db import connections

        try:
            barrier.wait()
            services.member_remove(acting_user=actor, organisation=buyer, user=target)
            outcomes.append("removed")
        except DomainError as refused:
            outcomes.append(refused.code)
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=remove, args=(first, second)),
        threading.Thread(target=remove, args=(second, first)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    with scopes_disabled():
        admins = Membership.objects.filter(organisation=buyer, role=Role.BUYER_ADMIN).count()
    # The second request either finds its actor already removed (not found) or refuses the last admin.
    assert admins == 1, outcomes
    assert outcomes.count("removed") == 1


# --- Services of a buyer ----------------------------------------------------------------------------


def test_buyer_services_and_sub_services(buyer, buyer_admin):
    direction = services.buyer_service_create(
        acting_user=buyer_admin, organisation=buyer, name="  Direction   des routes "
    )
    assert direction.name == "Direction des routes"
    centre = services.buyer_service_create(
        acting_user=buyer_admin, organisation=buyer, name="Centre nord", parent=direction
    )
    with pytest.raises(InvalidData, match="sous-services"):
        services.buyer_service_create(acting_user=buyer_admin, organisation=buyer, name="Équipe A", parent=centre)
    with pytest.raises(InvalidData, match="déjà ce nom"):
        services.buyer_service_create(acting_user=buyer_admin, organisation=buyer, name="direction des routes")
    services.buyer_service_rename(acting_user=buyer_admin, service=centre, name="Centre d'exploitation nord")
    services.buyer_service_delete(acting_user=buyer_admin, service=direction)
    with scopes_disabled():
        assert not BuyerService.objects.filter(organisation=buyer).exists()
    assert [event.action for event in AuditEvent.objects.filter(action__startswith="org.service.").order_by("seq")] == [
        "org.service.created",
        "org.service.created",
        "org.service.renamed",
        "org.service.deleted",
    ]


def test_services_belong_to_their_buyer(buyer, buyer_admin, buyer_agent, other_buyer, company, company_admin):
    foreign = BuyerServiceFactory(organisation=other_buyer)
    with pytest.raises(NotFound):
        services.buyer_service_create(acting_user=buyer_admin, organisation=buyer, name="Annexe", parent=foreign)
    with pytest.raises(NotFound):
        services.buyer_service_rename(acting_user=buyer_admin, service=foreign, name="Piraté")
    with pytest.raises(PermissionRefused):
        services.buyer_service_create(acting_user=buyer_agent, organisation=buyer, name="Annexe")
    with pytest.raises(PermissionRefused):  # no company role manages services
        services.buyer_service_create(acting_user=company_admin, organisation=company, name="Atelier")


# --- Operators --------------------------------------------------------------------------------------


def test_operators_are_members_of_the_platform_organisation_and_staff():
    first = UserFactory(email="premiere@e-bourgogne.test")
    services.operator_grant(acting_user=None, user=first)
    first.refresh_from_db()
    platform = Organisation.objects.get(kind=OrganisationKind.PLATFORM)
    assert first.is_staff and memberships(platform) == [(first.email, Role.PLATFORM_OPERATOR)]
    with pytest.raises(DomainError, match="déjà"):
        services.operator_grant(acting_user=first, user=first)

    second = UserFactory()
    services.operator_grant(acting_user=first, user=second)
    services.operator_revoke(acting_user=second, user=first)
    first.refresh_from_db()
    assert not first.is_staff
    with pytest.raises(DomainError, match="dernier exploitant"):
        services.operator_revoke(acting_user=None, user=second)
    assert [
        event.action for event in AuditEvent.objects.filter(action__startswith="org.operator.").order_by("seq")
    ] == [
        "org.operator.granted",
        "org.operator.granted",
        "org.operator.revoked",
    ]


def test_only_operators_make_operators(buyer_admin):
    with pytest.raises(PermissionRefused):
        services.operator_grant(acting_user=buyer_admin, user=buyer_admin)
    buyer_admin.refresh_from_db()
    assert not buyer_admin.is_staff


def test_operators_act_in_every_organisation_as_operators(buyer, buyer_agent):
    operator = make_operator()
    services.member_remove(acting_user=operator, organisation=buyer, user=buyer_agent)
    with pytest.raises(PermissionRefused):  # services are the buyer's own business
        services.buyer_service_create(acting_user=operator, organisation=buyer, name="Annexe")
