"""The state-changing operations of the organisations app, for the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

from django.urls import reverse

from ebourgogne.organisations.identifiers import siren_with_check_digit, siret_with_check_digit
from ebourgogne.organisations.models import BuyerService, Invitation, Membership, Organisation
from ebourgogne.organisations.roles import OrganisationKind, Role
from ebourgogne.testing.authorisation import AUTHENTICATED, OPERATOR, Operation


def _memberships(organisation: Organisation):
    return sorted(Membership.objects.filter(organisation=organisation).values_list("user_id", "role"))


def _invitations(organisation: Organisation):
    return sorted(
        Invitation.objects.filter(organisation=organisation).values_list("email", "role", "revoked_at", "accepted_at")
    )


def _services(organisation: Organisation):
    return sorted(BuyerService.objects.filter(organisation=organisation).values_list("pk", "name", "parent_id"))


def _organisation_fields(organisation: Organisation):
    return Organisation.objects.filter(pk=organisation.pk).values().get()


def _url(name: str, *args) -> str:
    return reverse(name, args=args)


ADDRESS = {
    "street": "2 rue de l'Hôtel de ville",
    "postal_code": "21200",
    "city": "Beaune",
    "insee_code": "21054",
    "department": "21",
    "email": "",
}

OPERATIONS = [
    Operation(
        name="organisations.create_company",
        target="organisations:create_company",
        method="POST",
        policy=AUTHENTICATED,
        url=lambda w: _url("organisations:create_company"),
        data=lambda w: {
            "name": "Charpentes de l'Auxois",
            "siren": "732829320",
            "siret": "73282932000074",
            "legal_form": "SARL",
            "naf_code": "16.23Z",
            "is_sme": "on",
            **ADDRESS,
        },
        snapshot=lambda w: sorted(
            Organisation.objects.filter(kind=OrganisationKind.COMPANY).values_list("siren", flat=True)
        ),
    ),
    Operation(
        name="organisations.edit_buyer",
        target="organisations:edit",
        method="POST",
        permission="org.edit",
        url=lambda w: _url("organisations:edit", w.buyer.slug),
        data=lambda w: {"name": "Ville de Beaune", "buyer_kind": "commune", **ADDRESS},
        snapshot=lambda w: _organisation_fields(w.buyer),
    ),
    Operation(
        name="organisations.edit_company",
        target="organisations:edit",
        method="POST",
        permission="org.edit",
        organisation=lambda w: w.company,
        url=lambda w: _url("organisations:edit", w.company.slug),
        data=lambda w: {
            "name": "Menuiserie du Morvan et Fils",
            "siret": "",
            "legal_form": "SAS",
            "naf_code": "43.32A",
            "is_sme": "on",
            **ADDRESS,
        },
        snapshot=lambda w: _organisation_fields(w.company),
    ),
    Operation(
        name="organisations.invite",
        target="organisations:invite",
        method="POST",
        permission="org.members.manage",
        url=lambda w: _url("organisations:invite", w.buyer.slug),
        data=lambda w: {"email": "nouvel.agent@exemple.test", "role": Role.BUYER_AGENT},
        snapshot=lambda w: _invitations(w.buyer),
    ),
    Operation(
        name="organisations.invite_to_company",
        target="organisations:invite",
        method="POST",
        permission="org.members.manage",
        organisation=lambda w: w.company,
        url=lambda w: _url("organisations:invite", w.company.slug),
        data=lambda w: {"email": "compagnon@exemple.test", "role": Role.COMPANY_MEMBER},
        snapshot=lambda w: _invitations(w.company),
    ),
    Operation(
        name="organisations.member_roles",
        target="organisations:member_roles",
        method="POST",
        permission="org.members.manage",
        url=lambda w: _url("organisations:member_roles", w.buyer.slug, w.buyer_agent.pk),
        data=lambda w: {f"member-{w.buyer_agent.pk}-roles": [Role.BUYER_AGENT, Role.COMMISSION_MEMBER]},
        snapshot=lambda w: _memberships(w.buyer),
    ),
    Operation(
        name="organisations.member_remove",
        target="organisations:member_remove",
        method="POST",
        permission="org.members.manage",
        url=lambda w: _url("organisations:member_remove", w.buyer.slug, w.buyer_agent.pk),
        snapshot=lambda w: _memberships(w.buyer),
    ),
    Operation(
        name="organisations.company_member_remove",
        target="organisations:member_remove",
        method="POST",
        permission="org.members.manage",
        organisation=lambda w: w.company,
        url=lambda w: _url("organisations:member_remove", w.company.slug, w.company_member.pk),
        snapshot=lambda w: _memberships(w.company),
    ),
    Operation(
        name="organisations.invitations_list",
        target="organisations:invitations",
        method="GET",
        permission="org.members.manage",
        url=lambda w: _url("organisations:invitations", w.buyer.slug),
        snapshot=lambda w: _invitations(w.buyer),
        changes=False,
    ),
    Operation(
        name="organisations.invitation_revoke",
        target="organisations:invitation_revoke",
        method="POST",
        permission="org.members.manage",
        url=lambda w: _url("organisations:invitation_revoke", w.buyer.slug, w.buyer_invitation.pk),
        snapshot=lambda w: _invitations(w.buyer),
    ),
    Operation(
        name="organisations.service_create",
        target="organisations:service_create",
        method="POST",
        permission="org.services.manage",
        url=lambda w: _url("organisations:service_create", w.buyer.slug),
        data=lambda w: {"name": "Direction des routes", "parent": ""},
        snapshot=lambda w: _services(w.buyer),
    ),
    Operation(
        name="organisations.service_rename",
        target="organisations:service_rename",
        method="POST",
        permission="org.services.manage",
        url=lambda w: _url("organisations:service_rename", w.buyer.slug, w.service.pk),
        data=lambda w: {"name": "Direction des achats"},
        snapshot=lambda w: _services(w.buyer),
    ),
    Operation(
        name="organisations.service_delete",
        target="organisations:service_delete",
        method="POST",
        permission="org.services.manage",
        url=lambda w: _url("organisations:service_delete", w.buyer.slug, w.sub_service.pk),
        snapshot=lambda w: _services(w.buyer),
    ),
    Operation(
        name="organisations.leave",
        target="organisations:leave",
        method="POST",
        permission="org.view",
        url=lambda w: _url("organisations:leave", w.buyer.slug),
        snapshot=lambda w: _memberships(w.buyer),
        member_roles=(Role.BUYER_AGENT,),
        # Operators see every organisation but are members of none of them: nothing to leave.
        operator_allowed=False,
        operator_denied_status=404,
    ),
    Operation(
        name="organisations.operator_create_buyer",
        target="organisations:operator_create_buyer",
        method="POST",
        policy=OPERATOR,
        url=lambda w: _url("organisations:operator_create_buyer"),
        data=lambda w: {
            "name": "Commune de Meursault",
            "siret": siret_with_check_digit(siren_with_check_digit("21210412"), "0001"),
            "buyer_kind": "commune",
            **ADDRESS,
            "postal_code": "21190",
            "city": "Meursault",
            "insee_code": "21412",
            "admin_email": "maire@exemple.test",
        },
        snapshot=lambda w: sorted(
            Organisation.objects.filter(kind=OrganisationKind.BUYER).values_list("siret", flat=True)
        ),
    ),
    Operation(
        name="organisations.api_invite",
        target="api POST /api/v1/organisations/{org_slug}/invitations",
        method="POST",
        api=True,
        permission="org.members.manage",
        url=lambda w: f"/api/v1/organisations/{w.buyer.slug}/invitations",
        data=lambda w: {"email": "api.agent@exemple.test", "role": Role.BUYER_AGENT},
        snapshot=lambda w: _invitations(w.buyer),
    ),
]
