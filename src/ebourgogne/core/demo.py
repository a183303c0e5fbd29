"""The demo data set: named organisations and accounts with known passwords, plus bulk realistic data.

Used by `ebourgogne demo` (loads it once into a fresh database) and `ebourgogne demo-code` (prints the
current TOTP code of a demo account). Staff accounts (platform operator, buyer staff, commission
members) must sign in with TOTP: each gets an authenticator with a fixed secret derived from its
e-mail address, so that anyone can add it to an authenticator app or ask `demo-code`.

Never in production: the passwords and secrets are in this file.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from ebourgogne.organisations.roles import MFA_REQUIRED_ROLES, OrganisationKind, Role

DEMO_PASSWORD = "Demo-Dijon-2026!"  # noqa: S105 - the demo is public by design, refused in production
DEMO_DOMAIN = "e-bourgogne.test"  # .test is reserved: no mail can ever reach a real person
BULK_BUYERS = 60
BULK_COMPANIES = 400
BULK_SEED = 21


@dataclass(frozen=True)
class DemoOrganisation:
    key: str
    kind: str
    name: str
    street: str
    postal_code: str
    city: str
    insee_code: str
    department: str
    siret: str = ""
    siren: str = ""
    buyer_kind: str = ""
    legal_form: str = ""
    naf_code: str = ""
    is_sme: bool = False
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    organisation: str  # DemoOrganisation.key
    roles: tuple[str, ...]
    description: str

    @property
    def mfa(self) -> bool:
        """Staff must sign in with TOTP (see organisations.roles.MFA_REQUIRED_ROLES)."""
        return any(role in MFA_REQUIRED_ROLES for role in self.roles)

    @property
    def totp_secret(self) -> str | None:
        return totp_secret_for(self.email) if self.mfa else None


# Identifiers are invented (valid checksums, no real body or company behind them); places are real.
ORGANISATIONS: tuple[DemoOrganisation, ...] = (
    DemoOrganisation(
        key="region",
        kind=OrganisationKind.BUYER,
        name="Région Bourgogne-Franche-Comté",
        siret="23210017200013",
        siren="232100172",
        buyer_kind="region",
        street="17 boulevard de la Trémouille",
        postal_code="21000",
        city="Dijon",
        insee_code="21231",
        department="21",
        services=("Direction des lycées", "Direction des mobilités et des transports", "Direction du numérique"),
    ),
    DemoOrganisation(
        key="departement",
        kind=OrganisationKind.BUYER,
        name="Département de la Côte-d'Or",
        siret="22210032300013",
        siren="222100323",
        buyer_kind="departement",
        street="53 bis rue de la Préfecture",
        postal_code="21000",
        city="Dijon",
        insee_code="21231",
        department="21",
        services=("Direction des routes et des infrastructures", "Direction de l'autonomie", "Collèges"),
    ),
    DemoOrganisation(
        key="commune",
        kind=OrganisationKind.BUYER,
        name="Ville de Beaune",
        siret="21210054900014",
        siren="212100549",
        buyer_kind="commune",
        street="Rue de l'Hôtel de Ville",
        postal_code="21200",
        city="Beaune",
        insee_code="21054",
        department="21",
        services=("Services techniques", "Commande publique"),
    ),
    DemoOrganisation(
        key="tp-auxois",
        kind=OrganisationKind.COMPANY,
        name="Travaux Publics de l'Auxois",
        siren="812345676",
        siret="81234567600017",
        legal_form="SAS",
        naf_code="42.11Z",
        is_sme=True,
        street="12 route de Montbard",
        postal_code="21140",
        city="Semur-en-Auxois",
        insee_code="21603",
        department="21",
    ),
    DemoOrganisation(
        key="saone-ingenierie",
        kind=OrganisationKind.COMPANY,
        name="Saône Ingénierie",
        siren="798765434",
        siret="79876543400013",
        legal_form="SARL",
        naf_code="71.12B",
        is_sme=True,
        street="8 quai Gambetta",
        postal_code="71100",
        city="Chalon-sur-Saône",
        insee_code="71076",
        department="71",
    ),
)


def _email(local: str) -> str:
    return f"{local}@{DEMO_DOMAIN}"


ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        _email("exploitation"),
        "Claire Morel",
        "platform",
        (Role.PLATFORM_OPERATOR,),
        "platform operator",
    ),
    DemoAccount(
        _email("admin.region"),
        "Sophie Bernard",
        "region",
        (Role.BUYER_ADMIN,),
        "buyer admin, Région",
    ),
    DemoAccount(_email("agent.region"), "Julien Lefèvre", "region", (Role.BUYER_AGENT,), "buyer agent, Région"),
    DemoAccount(
        _email("commission.region"),
        "Marc Dupuis",
        "region",
        (Role.COMMISSION_MEMBER,),
        "commission member, Région",
    ),
    DemoAccount(
        _email("admin.cotedor"),
        "Nathalie Girard",
        "departement",
        (Role.BUYER_ADMIN,),
        "buyer admin, Département",
    ),
    DemoAccount(_email("agent.cotedor"), "Thomas Roux", "departement", (Role.BUYER_AGENT,), "buyer agent, Département"),
    DemoAccount(
        _email("admin.beaune"),
        "Isabelle Fournier",
        "commune",
        (Role.BUYER_ADMIN, Role.BUYER_AGENT),
        "buyer admin and agent, Ville de Beaune",
    ),
    DemoAccount(
        _email("commission.beaune"),
        "Hélène Mercier",
        "commune",
        (Role.COMMISSION_MEMBER,),
        "commission member, Ville de Beaune",
    ),
    DemoAccount(
        _email("admin.tp-auxois"),
        "Pierre Lambert",
        "tp-auxois",
        (Role.COMPANY_ADMIN,),
        "company admin, Travaux Publics de l'Auxois",
    ),
    DemoAccount(
        _email("membre.tp-auxois"),
        "Camille Bonnet",
        "tp-auxois",
        (Role.COMPANY_MEMBER,),
        "company member, Travaux Publics de l'Auxois",
    ),
    DemoAccount(
        _email("admin.saone-ingenierie"),
        "Émilie Chevalier",
        "saone-ingenierie",
        (Role.COMPANY_ADMIN,),
        "company admin, Saône Ingénierie",
    ),
    DemoAccount(
        _email("membre.saone-ingenierie"),
        "Antoine Perrin",
        "saone-ingenierie",
        (Role.COMPANY_MEMBER,),
        "company member, Saône Ingénierie",
    ),
)

OPERATOR_EMAIL = ACCOUNTS[0].email


def demo_account(email: str) -> DemoAccount | None:
    wanted = email.strip().lower()
    return next((account for account in ACCOUNTS if account.email == wanted), None)


def totp_secret_for(email: str) -> str:
    """A fixed TOTP secret per demo account (base32, 160 bits), derived from its address."""
    digest = hashlib.sha256(f"e-bourgogne demo TOTP {email.lower()}".encode()).digest()[:20]
    return base64.b32encode(digest).decode("ascii")


def totp_code(secret: str, at: float | None = None) -> str:
    """The code an authenticator app shows for `secret` at instant `at` (default: the platform clock)."""
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    from ebourgogne.core.clock import now

    instant = now().timestamp() if at is None else at
    return format_hotp_value(hotp_value(secret, int(instant) // app_settings.TOTP_PERIOD))


class NotDemoAccount(Exception):
    pass


def current_code(email: str) -> str:
    """The current TOTP code of a demo account, refusing any account that is not pristine demo data."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.utils import decrypt
    from django.contrib.auth import get_user_model

    account = demo_account(email)
    if account is None:
        raise NotDemoAccount(f"{email} is not a demo account.")
    if not account.mfa:
        raise NotDemoAccount(f"{email} signs in with its password only (no TOTP for company accounts).")
    authenticator = Authenticator.objects.filter(
        user__in=get_user_model().objects.filter(email__iexact=account.email), type=Authenticator.Type.TOTP
    ).first()
    if authenticator is None:
        raise NotDemoAccount(f"{email} has no TOTP authenticator (demo data not loaded?).")
    secret = decrypt(authenticator.data["secret"])
    if secret != account.totp_secret:
        # Someone set up their own authenticator on this account: it no longer belongs to the demo.
        raise NotDemoAccount(f"{email} uses its own authenticator, not the demo one.")
    return totp_code(secret)


def is_loaded() -> bool:
    """The demo data is loaded when its operator account exists (loading is all-or-nothing)."""
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(email=OPERATOR_EMAIL).exists()


@dataclass
class LoadReport:
    organisations: int = 0
    accounts: int = 0
    bulk: str = ""


def load(*, bulk: bool = True, progress: Callable[[str], None] = lambda message: None) -> LoadReport:
    """Create the demo data set in one transaction, through the organisations' services (so the audit
    trail and the outbox show what happened). Refuses to run twice."""
    from django_scopes import scopes_disabled

    from ebourgogne.audit.services import log_event

    if is_loaded():
        raise RuntimeError("The demo data is already loaded.")
    report = LoadReport()
    with transaction.atomic(), scopes_disabled():
        users = {account.email: _create_user(account) for account in ACCOUNTS}
        _make_operator(users[OPERATOR_EMAIL])
        organisations = {}
        for spec in ORGANISATIONS:
            members = [account for account in ACCOUNTS if account.organisation == spec.key]
            organisations[spec.key] = _create_organisation(spec, members, users)
        report.organisations = len(organisations)
        report.accounts = len(users)
        progress(f"{len(organisations)} named organisations, {len(users)} demo accounts")
        if bulk:
            report.bulk = _seed_bulk()
            if report.bulk:
                progress(report.bulk)
        log_event(action="demo.loaded", data={"organisations": report.organisations, "accounts": report.accounts})
    return report


def _create_user(account: DemoAccount):
    """A person with a verified address and, for staff, the demo authenticator (allauth's own models:
    sign-up and MFA activation are allauth flows, which need a browser)."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
    from allauth.mfa.totp.internal.auth import TOTP
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(
        email=account.email, password=DEMO_PASSWORD, full_name=account.full_name
    )
    EmailAddress.objects.create(user=user, email=account.email, verified=True, primary=True)
    if account.mfa:
        TOTP.activate(user, account.totp_secret)
        RecoveryCodes.activate(user)
    return user


def _make_operator(user) -> None:
    from ebourgogne.organisations import services

    services.operator_grant(acting_user=None, user=user)
    # The demo operator may also use Django's admin fully.
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])


def _invite_and_accept(organisation, *, by, user, role) -> None:
    from ebourgogne.organisations import services

    _invitation, token = services.invitation_create(
        acting_user=by, organisation=organisation, email=user.email, role=role
    )
    services.invitation_accept(user=user, token=token)


def _create_organisation(spec: DemoOrganisation, members: list[DemoAccount], users: dict):
    from ebourgogne.organisations import services

    address = {
        "street": spec.street,
        "postal_code": spec.postal_code,
        "city": spec.city,
        "insee_code": spec.insee_code,
        "department": spec.department,
        "email": f"contact.{spec.key}@{DEMO_DOMAIN}",
    }
    admin_role = Role.BUYER_ADMIN if spec.kind == OrganisationKind.BUYER else Role.COMPANY_ADMIN
    admin_account = next(account for account in members if admin_role in account.roles)
    admin = users[admin_account.email]
    if spec.kind == OrganisationKind.BUYER:
        operator = users[OPERATOR_EMAIL]
        organisation, invitation = services.buyer_register(
            acting_user=operator,
            name=spec.name,
            siret=spec.siret,
            buyer_kind=spec.buyer_kind,
            admin_email=admin.email,
            **address,
        )
        # The registration's invitation token only travels by e-mail: the operator re-invites to
        # get one, as an operator would after a lost e-mail.
        services.invitation_revoke(acting_user=operator, invitation=invitation)
        _invite_and_accept(organisation, by=operator, user=admin, role=Role.BUYER_ADMIN)
        for name in spec.services:
            services.buyer_service_create(acting_user=admin, organisation=organisation, name=name)
    else:
        organisation = services.company_register(
            acting_user=admin,
            name=spec.name,
            siren=spec.siren,
            siret=spec.siret,
            legal_form=spec.legal_form,
            naf_code=spec.naf_code,
            is_sme=spec.is_sme,
            **address,
        )
    for account in members:
        user = users[account.email]
        for role in account.roles:
            if user == admin and role == admin_role:
                continue
            if user == admin:
                services.membership_role_grant(acting_user=admin, organisation=organisation, user=user, role=role)
            else:
                _invite_and_accept(organisation, by=admin, user=user, role=role)
    return organisation


def _seed_bulk() -> str:
    """Bulk realistic data from the organisations app's generator (it skips the names already taken)."""
    try:
        from ebourgogne.organisations.seeding import seed
    except ImportError:
        return ""
    counts = seed(buyers=BULK_BUYERS, companies=BULK_COMPANIES, seed=BULK_SEED)
    return "generated: " + ", ".join(f"{count} {name}" for name, count in counts.items())
