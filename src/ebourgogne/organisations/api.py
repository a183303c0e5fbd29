"""Organisations in the API, under /api/v1/organisations (session authentication, CSRF checked).

- GET  /                           my organisations, with my roles in each
- GET  /{org_slug}                 one organisation (members)
- GET  /{org_slug}/members         its members and their roles
- POST /{org_slug}/invitations     invite someone (administrators)

Errors: 400 with `detail` and, per field, `errors`; 401 signed out; 403 role too weak; 404 unknown or
not yours (the two are never told apart).
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Field, Router, Schema, Status

from ebourgogne.apitokens.auth import api_auth
from ebourgogne.core.access import authenticated, organisation_api
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations import selectors, services
from ebourgogne.organisations.models import Organisation

router = Router(tags=["organisations"], auth=api_auth)


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = Field(default_factory=dict, description="Messages per field, when known")


class OrganisationOut(Schema):
    slug: str
    name: str
    kind: str = Field(description="buyer, company or platform")
    siren: str
    siret: str
    buyer_kind: str = Field(description="Nature of a public buyer (region, commune, epci...); empty for others")
    legal_form: str
    naf_code: str
    is_sme: bool
    street: str
    postal_code: str
    city: str
    insee_code: str
    department: str
    roles: list[str] = Field(description="The caller's roles in this organisation")


class MemberOut(Schema):
    user_id: int
    full_name: str
    email: str
    roles: list[str]


class InvitationIn(Schema):
    email: str = Field("", max_length=254)
    role: str = Field("", max_length=32, description="A role of this kind of organisation, e.g. buyer_agent")


class InvitationOut(Schema):
    id: int
    email: str
    role: str
    status: str
    expires_at: dt.datetime


def _organisation_out(organisation: Organisation, roles) -> OrganisationOut:
    fields = {name: getattr(organisation, name) for name in OrganisationOut.model_fields if name != "roles"}
    return OrganisationOut(**fields, roles=sorted(roles))


def _error(error: DomainError) -> Status:
    status = {"not_found": 404, "forbidden": 403}.get(error.code, 400)
    return Status(status, ErrorOut(detail=str(error.message), errors=getattr(error, "errors", {})))


@router.get("/", response={200: list[OrganisationOut], 401: ErrorOut}, summary="My organisations")
@authenticated
def my_organisations(request: HttpRequest):
    return [
        _organisation_out(organisation, roles) for organisation, roles in selectors.organisations_of(user=request.user)
    ]


@router.get(
    "/{org_slug}",
    response={200: OrganisationOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="One organisation",
)
@organisation_api("org.view")
def organisation_detail(request: HttpRequest, organisation: Organisation):
    return _organisation_out(organisation, request.organisation_roles)  # type: ignore[attr-defined]


@router.get(
    "/{org_slug}/members",
    response={200: list[MemberOut], 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Members of an organisation",
)
@organisation_api("org.members.view")
def organisation_members(request: HttpRequest, organisation: Organisation):
    return [
        MemberOut(user_id=member.user.pk, full_name=member.user.full_name, email=member.user.email, roles=member.roles)
        for member in selectors.members_of(organisation=organisation)
    ]


@router.post(
    "/{org_slug}/invitations",
    response={201: InvitationOut, 400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Invite someone to the organisation",
)
@organisation_api("org.members.manage")
def organisation_invite(request: HttpRequest, organisation: Organisation, payload: InvitationIn):
    try:
        invitation, _token = services.invitation_create(
            acting_user=request.user, organisation=organisation, email=payload.email, role=payload.role, request=request
        )
    except DomainError as error:
        return _error(error)
    return Status(
        201,
        InvitationOut(
            id=invitation.pk,
            email=invitation.email,
            role=invitation.role,
            status=invitation.status,
            expires_at=invitation.expires_at,
        ),
    )
