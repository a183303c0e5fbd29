"""Every change to organisations, services, memberships and invitations.

Each function is one atomic step: it checks the caller's right, validates, writes, and records an audit
event. It raises `DomainError` (or a subclass) with a translated message and stores nothing when a rule
refuses the operation. Views, the API and commands call these functions and nothing else.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.urls import reverse
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.notifications.services import send_templated_mail
from ebourgogne.organisations import identifiers
from ebourgogne.organisations.models import LEGAL_FORMS, BuyerKind, BuyerService, Invitation, Membership, Organisation
from ebourgogne.organisations.roles import ROLES_BY_KIND, OrganisationKind, Role, roles_grant
from ebourgogne.organisations.selectors import roles_of, user_is_operator

INVITATION_VALIDITY = timedelta(days=7)

# The role that administers each kind of organisation: its last holder cannot go.
ADMIN_ROLE_BY_KIND: dict[str, str] = {
    OrganisationKind.BUYER: Role.BUYER_ADMIN,
    OrganisationKind.COMPANY: Role.COMPANY_ADMIN,
    OrganisationKind.PLATFORM: Role.PLATFORM_OPERATOR,
}

# First path segments under /organisations/ that are pages, not organisations.
RESERVED_SLUGS = frozenset({"creer-entreprise", "exploitation", "invitation", "invitations", "nouvelle", "api"})

PLATFORM_SLUG = "plateforme"

# Fields each kind of organisation may change after registration (identifiers stay as registered).
_COMMON_EDITABLE = ("name", "street", "postal_code", "city", "insee_code", "department", "email")
EDITABLE_FIELDS: dict[str, tuple[str, ...]] = {
    OrganisationKind.BUYER: (*_COMMON_EDITABLE, "buyer_kind"),
    OrganisationKind.COMPANY: (*_COMMON_EDITABLE, "siret", "legal_form", "naf_code", "is_sme"),
    OrganisationKind.PLATFORM: ("name", "email"),
}


class InvalidData(DomainError):
    """Some fields are wrong. `errors` maps each field name to its translated messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        first = next(iter(errors.values()))[0]
        super().__init__(first, code="invalid")


class _Errors:
    """Collects field errors while validating, then raises them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(str(message))

    def check(self, field: str, cleaner, *args: Any) -> Any:
        try:
            return cleaner(*args)
        except identifiers.InvalidIdentifier as invalid:
            self.add(field, invalid.message)
            return None

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidData(self.errors)


# --- Helpers ----------------------------------------------------------------------------------------


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _require(acting_user: Any, organisation: Organisation, permission: str) -> set[str]:
    """The caller's roles in `organisation`, or NotFound / PermissionRefused (deny by default)."""
    roles = roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()
    if not roles:
        raise NotFound(_("Organisation introuvable."))
    if not roles_grant(roles, permission):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas cette action."))
    return roles


def _require_signed_in(user: Any) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))


def _require_operator(user: Any) -> None:
    _require_signed_in(user)
    if not user_is_operator(user):
        raise PermissionRefused(_("Seuls les exploitants de la plateforme peuvent effectuer cette action."))


def _lock(organisation: Organisation) -> Organisation:
    """Lock the organisation row: membership changes of one organisation run one at a time."""
    return Organisation.objects.select_for_update().get(pk=organisation.pk)


def _unique_slug(name: str, suffix: str) -> str:
    base = slugify(name)[:60].strip("-") or "organisation"
    if base not in RESERVED_SLUGS and not Organisation.objects.filter(slug=base).exists():
        return base
    candidate = f"{base}-{suffix}"[:80]
    counter = 2
    while Organisation.objects.filter(slug=candidate).exists():
        candidate = f"{base}-{suffix}-{counter}"[:80]
        counter += 1
    return candidate


def _clean_text(errors: _Errors, field: str, value: Any, *, required: bool, max_length: int, label: str) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        errors.add(field, _("Indiquez %(label)s.") % {"label": label})
    elif len(text) > max_length:
        errors.add(
            field,
            _("%(label)s ne peut pas dépasser %(max)d caractères.") % {"label": label.capitalize(), "max": max_length},
        )
    return text


def _clean_address(errors: _Errors, data: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {
        "street": _clean_text(
            errors, "street", data.get("street"), required=True, max_length=255, label=_("l'adresse")
        ),
        "city": _clean_text(errors, "city", data.get("city"), required=True, max_length=120, label=_("la commune")),
        "postal_code": errors.check("postal_code", identifiers.clean_postal_code, data.get("postal_code", "")),
        "department": errors.check("department", identifiers.clean_department, data.get("department", "")),
    }
    cleaned["insee_code"] = errors.check(
        "insee_code", identifiers.clean_insee_code, data.get("insee_code", ""), cleaned["department"]
    )
    cleaned["email"] = _clean_optional_email(errors, data.get("email"))
    return cleaned


def _clean_optional_email(errors: _Errors, value: Any) -> str:
    email = str(value or "").strip().lower()
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors.add("email", _("Saisissez une adresse électronique valide, par exemple marches@exemple.fr."))
    return email


def _clean_email(errors: _Errors, field: str, value: Any) -> str:
    email = str(value or "").strip().lower()
    if not email:
        errors.add(field, _("Indiquez une adresse électronique."))
        return email
    try:
        validate_email(email)
    except ValidationError:
        errors.add(field, _("Saisissez une adresse électronique valide, par exemple marie.dupont@exemple.fr."))
    return email


def _clean_company_fields(errors: _Errors, data: dict[str, Any], siren: str | None) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    if "siret" in data:
        siret = str(data.get("siret") or "").strip()
        if siret and siren:
            cleaned["siret"] = errors.check("siret", identifiers.clean_siret_of_siren, siret, siren) or ""
        elif siret:
            cleaned["siret"] = errors.check("siret", identifiers.clean_siret, siret) or ""
        else:
            cleaned["siret"] = ""
    if "legal_form" in data:
        legal_form = str(data.get("legal_form") or "").strip()
        if legal_form not in dict(LEGAL_FORMS):
            errors.add("legal_form", _("Choisissez une forme juridique dans la liste."))
        cleaned["legal_form"] = legal_form
    if "naf_code" in data:
        cleaned["naf_code"] = errors.check("naf_code", identifiers.clean_naf_code, data.get("naf_code", ""))
    if "is_sme" in data:
        cleaned["is_sme"] = bool(data.get("is_sme"))
    return cleaned


def _language_of(email: str) -> str:
    user = get_user_model().objects.filter(email__iexact=email).first()
    return user.language if user is not None and user.language else settings.LANGUAGE_CODE


def _sync_staff(user: Any) -> None:
    """Platform operators reach the Django admin (is_staff); nobody else does, superusers aside."""
    with scopes_disabled():
        operator = Membership.objects.filter(user=user, role=Role.PLATFORM_OPERATOR).exists()
    staff = operator or user.is_superuser
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
    user.__dict__.pop("_ebourgogne_is_operator", None)


def _check_not_last_admin(organisation: Organisation, user: Any, *, message: str) -> None:
    """Refuse when `user` is the only holder of the organisation's admin role. Call with the row locked."""
    admin_role = ADMIN_ROLE_BY_KIND[organisation.kind]
    with scopes_disabled():
        admins = set(
            Membership.objects.filter(organisation=organisation, role=admin_role).values_list("user_id", flat=True)
        )
    if admins == {user.pk}:
        raise DomainError(message, code="last_admin")


# --- Registration -----------------------------------------------------------------------------------


@transaction.atomic
def company_register(
    *,
    acting_user: Any,
    name: str,
    siren: str,
    legal_form: str,
    naf_code: str,
    is_sme: bool,
    street: str,
    postal_code: str,
    city: str,
    insee_code: str,
    department: str,
    siret: str = "",
    email: str = "",
    request: Any = None,
) -> Organisation:
    """Register a company; `acting_user` becomes its administrator."""
    _require_signed_in(acting_user)
    errors = _Errors()
    clean_name = _clean_text(errors, "name", name, required=True, max_length=255, label=_("la raison sociale"))
    clean_siren = errors.check("siren", identifiers.clean_siren, siren)
    company = _clean_company_fields(
        errors, {"siret": siret, "legal_form": legal_form, "naf_code": naf_code, "is_sme": is_sme}, clean_siren
    )
    address = _clean_address(
        errors,
        {
            "street": street,
            "postal_code": postal_code,
            "city": city,
            "insee_code": insee_code,
            "department": department,
            "email": email,
        },
    )
    if clean_siren and Organisation.objects.filter(kind=OrganisationKind.COMPANY, siren=clean_siren).exists():
        errors.add("siren", _duplicate_siren_message())
    errors.raise_if_any()

    organisation = Organisation(
        kind=OrganisationKind.COMPANY,
        name=clean_name,
        slug=_unique_slug(clean_name, clean_siren),
        siren=clean_siren,
        **company,
        **address,
    )
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        # Registered by someone else between our check and our insert.
        raise InvalidData({"siren": [_duplicate_siren_message()]}) from None
    membership = Membership.objects.create(organisation=organisation, user=acting_user, role=Role.COMPANY_ADMIN)
    log_event(
        action="org.company.registered",
        actor=acting_user,
        organisation=organisation,
        obj=organisation,
        data={"siren": organisation.siren, "name": organisation.name},
        request=request,
    )
    log_event(
        action="org.member.role_granted",
        actor=acting_user,
        organisation=organisation,
        obj=membership,
        data={"user": acting_user.email, "role": Role.COMPANY_ADMIN},
        request=request,
    )
    return organisation


def _duplicate_siren_message() -> str:
    return _(
        "Une entreprise avec ce SIREN est déjà inscrite sur la plateforme. Demandez à l'un de ses administrateurs de vous inviter."
    )


def _duplicate_siret_message() -> str:
    return _("Un acheteur public avec ce SIRET est déjà inscrit sur la plateforme.")


@transaction.atomic
def buyer_register(
    *,
    acting_user: Any,
    name: str,
    siret: str,
    buyer_kind: str,
    street: str,
    postal_code: str,
    city: str,
    insee_code: str,
    department: str,
    admin_email: str,
    email: str = "",
    request: Any = None,
) -> tuple[Organisation, Invitation]:
    """Register a public buyer (platform operators only) and invite its first administrator."""
    _require_operator(acting_user)
    errors = _Errors()
    clean_name = _clean_text(errors, "name", name, required=True, max_length=255, label=_("le nom de l'acheteur"))
    clean_siret = errors.check("siret", identifiers.clean_siret, siret)
    if buyer_kind not in BuyerKind.values:
        errors.add("buyer_kind", _("Choisissez la nature de l'acheteur dans la liste."))
    address = _clean_address(
        errors,
        {
            "street": street,
            "postal_code": postal_code,
            "city": city,
            "insee_code": insee_code,
            "department": department,
            "email": email,
        },
    )
    clean_admin_email = _clean_email(errors, "admin_email", admin_email)
    if clean_siret and Organisation.objects.filter(kind=OrganisationKind.BUYER, siret=clean_siret).exists():
        errors.add("siret", _duplicate_siret_message())
    errors.raise_if_any()

    organisation = Organisation(
        kind=OrganisationKind.BUYER,
        name=clean_name,
        slug=_unique_slug(clean_name, clean_siret),
        siret=clean_siret,
        siren=clean_siret[:9],
        buyer_kind=buyer_kind,
        **address,
    )
    try:
        with transaction.atomic():
            organisation.save()
    except IntegrityError:
        raise InvalidData({"siret": [_duplicate_siret_message()]}) from None
    log_event(
        action="org.buyer.registered",
        actor=acting_user,
        organisation=organisation,
        obj=organisation,
        data={"siret": organisation.siret, "name": organisation.name, "buyer_kind": buyer_kind},
        request=request,
    )
    invitation, _token = invitation_create(
        acting_user=acting_user,
        organisation=organisation,
        email=clean_admin_email,
        role=Role.BUYER_ADMIN,
        request=request,
    )
    return organisation, invitation


@transaction.atomic
def organisation_update(
    *, acting_user: Any, organisation: Organisation, request: Any = None, **changes: Any
) -> Organisation:
    """Change the organisation's name, address and descriptive fields (not its SIREN / buyer SIRET)."""
    _require(acting_user, organisation, "org.edit")
    allowed = EDITABLE_FIELDS[organisation.kind]
    unknown = sorted(set(changes) - set(allowed))
    if unknown:
        raise DomainError(
            _("Ces informations ne peuvent pas être modifiées ici : %(fields)s.") % {"fields": ", ".join(unknown)}
        )
    organisation = _lock(organisation)
    merged = {field: changes.get(field, getattr(organisation, field)) for field in allowed}
    errors = _Errors()
    cleaned: dict[str, Any] = {
        "name": _clean_text(errors, "name", merged["name"], required=True, max_length=255, label=_("le nom"))
    }
    if organisation.kind != OrganisationKind.PLATFORM:
        cleaned.update(_clean_address(errors, merged))
    else:
        cleaned["email"] = _clean_optional_email(errors, merged["email"])
    if organisation.kind == OrganisationKind.COMPANY:
        cleaned.update(_clean_company_fields(errors, merged, organisation.siren))
    if organisation.kind == OrganisationKind.BUYER:
        if merged["buyer_kind"] not in BuyerKind.values:
            errors.add("buyer_kind", _("Choisissez la nature de l'acheteur dans la liste."))
        cleaned["buyer_kind"] = merged["buyer_kind"]
    errors.raise_if_any()

    changed = {
        field: [getattr(organisation, field), value]
        for field, value in cleaned.items()
        if getattr(organisation, field) != value
    }
    if not changed:
        return organisation
    for field, (_old, new) in changed.items():
        setattr(organisation, field, new)
    organisation.save(update_fields=list(changed))
    log_event(
        action="org.organisation.updated",
        actor=acting_user,
        organisation=organisation,
        obj=organisation,
        data={"changes": changed},
        request=request,
    )
    return organisation


# --- Services of a buyer ----------------------------------------------------------------------------


def _require_buyer(organisation: Organisation) -> None:
    if organisation.kind != OrganisationKind.BUYER:
        raise DomainError(_("Seuls les acheteurs publics ont des services."))


def _clean_service_name(name: str) -> str:
    errors = _Errors()
    clean = _clean_text(errors, "name", name, required=True, max_length=255, label=_("le nom du service"))
    errors.raise_if_any()
    return clean


def _duplicate_service(organisation: Organisation, name: str, exclude: int | None = None) -> None:
    with scope(organisation=organisation):
        duplicates = BuyerService.objects.filter(organisation=organisation, name__iexact=name)
        if exclude is not None:
            duplicates = duplicates.exclude(pk=exclude)
        if duplicates.exists():
            raise InvalidData({"name": [_("Un service porte déjà ce nom dans votre organisation.")]})


@transaction.atomic
def buyer_service_create(
    *, acting_user: Any, organisation: Organisation, name: str, parent: BuyerService | None = None, request: Any = None
) -> BuyerService:
    """Add a service (or, under `parent`, a sub-service) to a public buyer."""
    _require(acting_user, organisation, "org.services.manage")
    _require_buyer(organisation)
    clean_name = _clean_service_name(name)
    if parent is not None:
        if parent.organisation_id != organisation.pk:
            raise NotFound(_("Service introuvable."))
        if parent.parent_id is not None:
            raise InvalidData({"parent": [_("Un sous-service ne peut pas avoir lui-même de sous-services.")]})
    _lock(organisation)
    _duplicate_service(organisation, clean_name)
    service = BuyerService.objects.create(organisation=organisation, parent=parent, name=clean_name)
    log_event(
        action="org.service.created",
        actor=acting_user,
        organisation=organisation,
        obj=service,
        data={"name": clean_name, "parent": parent.name if parent else None},
        request=request,
    )
    return service


@transaction.atomic
def buyer_service_rename(*, acting_user: Any, service: BuyerService, name: str, request: Any = None) -> BuyerService:
    organisation = service.organisation
    _require(acting_user, organisation, "org.services.manage")
    clean_name = _clean_service_name(name)
    _lock(organisation)
    _duplicate_service(organisation, clean_name, exclude=service.pk)
    old_name = service.name
    if old_name == clean_name:
        return service
    service.name = clean_name
    service.save(update_fields=["name"])
    log_event(
        action="org.service.renamed",
        actor=acting_user,
        organisation=organisation,
        obj=service,
        data={"old": old_name, "new": clean_name},
        request=request,
    )
    return service


@transaction.atomic
def buyer_service_delete(*, acting_user: Any, service: BuyerService, request: Any = None) -> None:
    """Delete a service and its sub-services."""
    organisation = service.organisation
    _require(acting_user, organisation, "org.services.manage")
    with scope(organisation=organisation):
        children = list(service.children.values_list("name", flat=True))
    name, pk = service.name, service.pk
    try:
        with transaction.atomic():
            service.delete()
    except ProtectedError:
        raise DomainError(
            _("Ce service ne peut pas être supprimé : des dossiers y sont encore rattachés. Renommez-le plutôt.")
        ) from None
    log_event(
        action="org.service.deleted",
        actor=acting_user,
        organisation=organisation,
        data={"service_id": pk, "name": name, "sub_services": children},
        request=request,
    )


# --- Invitations ------------------------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *, acting_user: Any, organisation: Organisation, email: str, role: str, request: Any = None
) -> tuple[Invitation, str]:
    """Invite `email` to take `role` in `organisation`. Returns the invitation and its secret token
    (only its hash is stored; the token travels in the e-mail)."""
    _require(acting_user, organisation, "org.members.manage")
    errors = _Errors()
    clean_email = _clean_email(errors, "email", email)
    if role not in ROLES_BY_KIND[organisation.kind]:
        errors.add("role", _("Ce rôle n'existe pas pour ce type d'organisation."))
    errors.raise_if_any()
    _lock(organisation)
    now = clock.now()
    with scope(organisation=organisation):
        if Membership.objects.filter(organisation=organisation, role=role, user__email__iexact=clean_email).exists():
            raise InvalidData({"email": [_("Cette personne a déjà ce rôle dans l'organisation.")]})
        if Invitation.objects.filter(
            organisation=organisation,
            email__iexact=clean_email,
            role=role,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
        ).exists():
            raise InvalidData(
                {
                    "email": [
                        _(
                            "Une invitation à ce rôle attend déjà la réponse de cette personne. Annulez-la pour en envoyer une nouvelle."
                        )
                    ]
                }
            )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=clean_email,
        role=role,
        token_hash=token_hash(token),
        invited_by=acting_user if getattr(acting_user, "is_authenticated", False) else None,
        expires_at=now + INVITATION_VALIDITY,
    )
    send_templated_mail(
        template="organisations/email/invitation",
        to=[clean_email],
        context={
            "organisation_name": organisation.name,
            "role": role,
            "inviter_name": acting_user.get_full_name() if acting_user is not None else "",
            "accept_url": settings.BASE_URL + reverse("organisations:invitation_accept", args=[token]),
            "expires_at": invitation.expires_at.isoformat(),
        },
        language=_language_of(clean_email),
    )
    log_event(
        action="org.member.invited",
        actor=acting_user,
        organisation=organisation,
        obj=invitation,
        data={"email": clean_email, "role": role, "expires_at": invitation.expires_at.isoformat()},
        request=request,
    )
    return invitation, token


def email_belongs_to(user: Any, email: str) -> bool:
    if (user.email or "").lower() == email.lower():
        return True
    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def invitation_check(invitation: Invitation | None) -> Invitation:
    """The invitation if it can still be accepted, else a DomainError saying why."""
    if invitation is None or not invitation.organisation.is_active:
        raise DomainError(
            _("Ce lien d'invitation n'est pas reconnu. Vérifiez que vous avez copié l'adresse complète du courriel."),
            code="invitation_unknown",
        )
    if invitation.revoked_at is not None:
        raise DomainError(
            _("Cette invitation a été annulée par l'organisation. Demandez-lui une nouvelle invitation si besoin."),
            code="invitation_revoked",
        )
    if invitation.accepted_at is not None:
        raise DomainError(
            _("Cette invitation a déjà été acceptée : elle ne peut servir qu'une fois."), code="invitation_used"
        )
    if invitation.expires_at <= clock.now():
        raise DomainError(
            _("Cette invitation a expiré. Demandez à l'organisation de vous en envoyer une nouvelle."),
            code="invitation_expired",
        )
    return invitation


@transaction.atomic
def invitation_accept(*, user: Any, token: str, request: Any = None) -> Membership:
    """Accept an invitation: `user` must be signed in with the invited e-mail address."""
    _require_signed_in(user)
    with scopes_disabled():
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organisation")
            .filter(token_hash=token_hash(token))
            .first()
        )
    invitation = invitation_check(invitation)
    if not email_belongs_to(user, invitation.email):
        raise DomainError(
            _(
                "Cette invitation a été envoyée à une autre adresse électronique. Connectez-vous avec l'adresse qui l'a reçue."
            ),
            code="invitation_wrong_email",
        )
    organisation = _lock(invitation.organisation)
    with scope(organisation=organisation):
        if Membership.objects.filter(organisation=organisation, user=user, role=invitation.role).exists():
            raise DomainError(_("Vous avez déjà ce rôle dans cette organisation."), code="already_member")
        membership = Membership.objects.create(organisation=organisation, user=user, role=invitation.role)
    invitation.accepted_at = clock.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    if invitation.role == Role.PLATFORM_OPERATOR:
        _sync_staff(user)
    log_event(
        action="org.invitation.accepted",
        actor=user,
        organisation=organisation,
        obj=membership,
        data={"email": invitation.email, "role": invitation.role, "invitation_id": invitation.pk},
        request=request,
    )
    return membership


@transaction.atomic
def invitation_revoke(*, acting_user: Any, invitation: Invitation, request: Any = None) -> Invitation:
    organisation = invitation.organisation
    _require(acting_user, organisation, "org.members.manage")
    with scope(organisation=organisation):
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None:
        raise DomainError(_("Cette invitation a déjà été acceptée ; retirez plutôt le rôle de la personne."))
    if invitation.revoked_at is not None:
        raise DomainError(_("Cette invitation est déjà annulée."))
    invitation.revoked_at = clock.now()
    invitation.save(update_fields=["revoked_at"])
    log_event(
        action="org.invitation.revoked",
        actor=acting_user,
        organisation=organisation,
        obj=invitation,
        data={"email": invitation.email, "role": invitation.role},
        request=request,
    )
    return invitation


# --- Memberships ------------------------------------------------------------------------------------


def _memberships_of(organisation: Organisation, user: Any) -> list[Membership]:
    with scope(organisation=organisation):
        return list(Membership.objects.filter(organisation=organisation, user=user))


@transaction.atomic
def membership_role_grant(
    *, acting_user: Any, organisation: Organisation, user: Any, role: str, request: Any = None
) -> Membership:
    """Give one more role to a person who is already a member (newcomers are invited)."""
    _require(acting_user, organisation, "org.members.manage")
    if role not in ROLES_BY_KIND[organisation.kind]:
        raise InvalidData({"role": [_("Ce rôle n'existe pas pour ce type d'organisation.")]})
    organisation = _lock(organisation)
    current = _memberships_of(organisation, user)
    if not current:
        raise NotFound(_("Cette personne n'est pas membre de l'organisation. Invitez-la d'abord."))
    if any(membership.role == role for membership in current):
        raise DomainError(_("Cette personne a déjà ce rôle."), code="already_member")
    membership = Membership.objects.create(organisation=organisation, user=user, role=role)
    if role == Role.PLATFORM_OPERATOR:
        _sync_staff(user)
    log_event(
        action="org.member.role_granted",
        actor=acting_user,
        organisation=organisation,
        obj=membership,
        data={"user": user.email, "role": role},
        request=request,
    )
    return membership


@transaction.atomic
def membership_role_revoke(
    *, acting_user: Any, organisation: Organisation, user: Any, role: str, request: Any = None
) -> None:
    """Take one role away. Taking the last role removes the person from the organisation."""
    _require(acting_user, organisation, "org.members.manage")
    organisation = _lock(organisation)
    current = {membership.role: membership for membership in _memberships_of(organisation, user)}
    if not current:
        raise NotFound(_("Cette personne n'est pas membre de l'organisation."))
    if role not in current:
        raise DomainError(_("Cette personne n'a pas ce rôle."))
    if role == ADMIN_ROLE_BY_KIND[organisation.kind]:
        _check_not_last_admin(
            organisation,
            user,
            message=_("C'est le dernier administrateur de l'organisation : nommez d'abord un autre administrateur."),
        )
    membership = current[role]
    membership_id = membership.pk
    with scope(organisation=organisation):
        membership.delete()
    if role == Role.PLATFORM_OPERATOR:
        _sync_staff(user)
    log_event(
        action="org.member.role_revoked",
        actor=acting_user,
        organisation=organisation,
        data={"user": user.email, "role": role, "membership_id": membership_id},
        request=request,
    )


@transaction.atomic
def membership_roles_set(
    *, acting_user: Any, organisation: Organisation, user: Any, roles: list[str] | set[str], request: Any = None
) -> None:
    """Make `user`'s roles exactly `roles` (grants first, then revocations; all or nothing)."""
    _require(acting_user, organisation, "org.members.manage")
    wanted = set(roles)
    unknown = wanted - set(ROLES_BY_KIND[organisation.kind])
    if unknown:
        raise InvalidData({"roles": [_("Ce rôle n'existe pas pour ce type d'organisation.")]})
    current = {membership.role for membership in _memberships_of(organisation, user)}
    if not current:
        raise NotFound(_("Cette personne n'est pas membre de l'organisation."))
    for role in sorted(wanted - current):
        membership_role_grant(acting_user=acting_user, organisation=organisation, user=user, role=role, request=request)
    for role in sorted(current - wanted):
        membership_role_revoke(
            acting_user=acting_user, organisation=organisation, user=user, role=role, request=request
        )


def _leave(organisation: Organisation, user: Any) -> list[str]:
    with scope(organisation=organisation):
        memberships = Membership.objects.filter(organisation=organisation, user=user)
        roles = sorted(memberships.values_list("role", flat=True))
        memberships.delete()
    if Role.PLATFORM_OPERATOR in roles:
        _sync_staff(user)
    return roles


@transaction.atomic
def member_remove(*, acting_user: Any, organisation: Organisation, user: Any, request: Any = None) -> None:
    """Remove a person from the organisation (all their roles)."""
    _require(acting_user, organisation, "org.members.manage")
    organisation = _lock(organisation)
    if not _memberships_of(organisation, user):
        raise NotFound(_("Cette personne n'est pas membre de l'organisation."))
    _check_not_last_admin(
        organisation,
        user,
        message=_(
            "C'est le dernier administrateur de l'organisation : il ne peut pas être retiré. Nommez d'abord un autre administrateur."
        ),
    )
    roles = _leave(organisation, user)
    log_event(
        action="org.member.removed",
        actor=acting_user,
        organisation=organisation,
        data={"user": user.email, "roles": roles},
        request=request,
    )


@transaction.atomic
def membership_leave(*, user: Any, organisation: Organisation, request: Any = None) -> None:
    """Leave an organisation (all one's roles in it)."""
    _require_signed_in(user)
    organisation = _lock(organisation)
    if not _memberships_of(organisation, user):
        raise NotFound(_("Vous n'êtes pas membre de cette organisation."))
    _check_not_last_admin(
        organisation,
        user,
        message=_(
            "Vous êtes le dernier administrateur de l'organisation : nommez d'abord un autre administrateur avant de partir."
        ),
    )
    roles = _leave(organisation, user)
    log_event(
        action="org.member.left",
        actor=user,
        organisation=organisation,
        data={"user": user.email, "roles": roles},
        request=request,
    )


# --- Platform operators -----------------------------------------------------------------------------


def platform_organisation() -> Organisation:
    """The organisation of the platform's operators, created the first time it is needed."""
    organisation = Organisation.objects.filter(kind=OrganisationKind.PLATFORM).order_by("pk").first()
    if organisation is None:
        organisation = Organisation.objects.create(
            kind=OrganisationKind.PLATFORM, name="Exploitation de la plateforme e-bourgogne", slug=PLATFORM_SLUG
        )
    return organisation


@transaction.atomic
def operator_grant(*, acting_user: Any, user: Any, request: Any = None) -> Membership:
    """Make `user` a platform operator. `acting_user` is an operator, or None for the command line."""
    if acting_user is not None:
        _require_operator(acting_user)
    organisation = _lock(platform_organisation())
    with scope(organisation=organisation):
        if Membership.objects.filter(organisation=organisation, user=user, role=Role.PLATFORM_OPERATOR).exists():
            raise DomainError(_("Cette personne est déjà exploitante de la plateforme."), code="already_member")
        membership = Membership.objects.create(organisation=organisation, user=user, role=Role.PLATFORM_OPERATOR)
    _sync_staff(user)
    log_event(
        action="org.operator.granted",
        actor=acting_user,
        organisation=organisation,
        obj=membership,
        data={"user": user.email},
        request=request,
    )
    return membership


@transaction.atomic
def operator_revoke(*, acting_user: Any, user: Any, request: Any = None) -> None:
    """Withdraw the operator role. The last operator stays (someone must run the platform)."""
    if acting_user is not None:
        _require_operator(acting_user)
    organisation = _lock(platform_organisation())
    with scope(organisation=organisation):
        membership = Membership.objects.filter(
            organisation=organisation, user=user, role=Role.PLATFORM_OPERATOR
        ).first()
    if membership is None:
        raise NotFound(_("Cette personne n'est pas exploitante de la plateforme."))
    _check_not_last_admin(
        organisation,
        user,
        message=_("C'est le dernier exploitant de la plateforme : nommez d'abord un autre exploitant."),
    )
    membership_id = membership.pk
    with scope(organisation=organisation):
        membership.delete()
    _sync_staff(user)
    log_event(
        action="org.operator.revoked",
        actor=acting_user,
        organisation=organisation,
        data={"user": user.email, "membership_id": membership_id},
        request=request,
    )
