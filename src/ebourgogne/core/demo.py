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
# The passphrase of every demo commission member's personal opening key (sealed bids). The demo keys are
# sealed with a low age scrypt work factor (DEMO_SCRYPT_WORK_FACTOR) so that loading stays fast: the
# passphrase is public anyway. Keys set up or rotated through the pages use the platform's setting.
DEMO_OPENING_PASSPHRASE = "Ouverture-Dijon-2026"  # noqa: S105 - public demo data, refused in production
DEMO_SCRYPT_WORK_FACTOR = 10
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
        _email("commission.cotedor"),
        "Paul Garnier",
        "departement",
        (Role.COMMISSION_MEMBER,),
        "commission member, Département",
    ),
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
        _email("elu.beaune"),
        "Bernard Rousseau",
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
    consultations: int = 0
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
        commissions = _create_commissions(organisations, users)
        progress(f"{commissions} opening commissions of 3 members (2 needed to open), with their opening keys")
        report.consultations = _create_consultations(organisations, users)
        progress(f"{report.consultations} demo consultations, one at least in every state")
        meetings = _create_meetings(organisations, users)
        progress(f"{meetings} commission meeting convened (its convocation e-mails queued for the outbox)")
        from ebourgogne.contracts.demo import create_demo_contracts

        contracts = create_demo_contracts(organisations)
        progress(f"{len(contracts)} contract signed by both parties and notified (acte d'engagement in PAdES)")
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


# --- Demo commissions -----------------------------------------------------------------------------


def _create_commissions(organisations: dict, users: dict) -> int:
    """Each demo buyer gets a default opening commission: its three demo staff accounts, 2 of 3 needed to
    open, each with a personal opening key under DEMO_OPENING_PASSPHRASE (created through the services)."""
    from ebourgogne.commissions import services as commission_services
    from ebourgogne.commissions.models import CommissionKind
    from ebourgogne.sealing.services import active_key, personal_key_create

    count = 0
    for spec in ORGANISATIONS:
        if spec.kind != OrganisationKind.BUYER:
            continue
        organisation = organisations[spec.key]
        staff = [account for account in ACCOUNTS if account.organisation == spec.key]
        admin = users[next(account.email for account in staff if Role.BUYER_ADMIN in account.roles)]
        commission = commission_services.commission_create(
            acting_user=admin,
            organisation=organisation,
            name="Commission d'appel d'offres",
            kind=CommissionKind.CAO,
            opening_threshold=2,
            is_default=True,
        )
        for account in staff[:3]:
            user = users[account.email]
            commission_services.member_add(
                acting_user=admin,
                commission=commission,
                user=user,
                is_president=Role.BUYER_ADMIN in account.roles,
            )
            if active_key(user) is None:
                personal_key_create(
                    user=user, passphrase=DEMO_OPENING_PASSPHRASE, scrypt_work_factor=DEMO_SCRYPT_WORK_FACTOR
                )
        count += 1
    return count


# --- Demo consultations ---------------------------------------------------------------------------
#
# Every consultation goes through `consultations.services`, so its audit events, signals (search index)
# and rules are the real ones. A consultation that is closed, opened or decided by now was published in
# the past: the services are run "at" that past moment with `_at(moment)`, which stands in for the
# platform clock (`ebourgogne.core.clock.now`) for the duration of the call. That is the only place the
# clock is overridden at runtime; tests use time-machine instead. Dates are computed from today, so a
# demo loaded any day shows the same picture: open consultations with deadlines ahead, and past ones.


@dataclass(frozen=True)
class DemoConsultation:
    organisation: str  # DemoOrganisation.key
    agent: str  # the e-mail address of the buyer staff member who acts
    reference: str
    title: str
    object: str
    contract_type: str
    procedure: str
    main_cpv: str
    state: str  # the state it ends in
    published_days_ago: int = 0  # for the states after draft
    deadline_in_days: int = 30  # from today; negative: already past
    additional_cpv: tuple[str, ...] = ()
    lots: tuple[tuple[str, str, str], ...] = ()  # (title, main CPV, estimated value)
    estimated_value: str = ""
    duration_months: int | None = None
    commune: str = ""
    department: str = ""
    insee_code: str = ""
    variants_allowed: bool = False
    reason: str = ""


def _agent(key: str) -> str:
    return {
        "region": _email("agent.region"),
        "departement": _email("agent.cotedor"),
        "commune": _email("admin.beaune"),
    }[key]


DOCUMENTS = "Lettre de candidature (DC1) ou DUME\nDéclaration du candidat (DC2)\nMémoire technique\nActe d'engagement"

CONSULTATIONS: tuple[DemoConsultation, ...] = (
    DemoConsultation(
        "region",
        _agent("region"),
        "2026-LYC-014",
        "Rénovation énergétique du lycée Hippolyte-Fontaine à Dijon",
        "Isolation par l'extérieur, remplacement des menuiseries et de la chaufferie du lycée.",
        "works",
        "open",
        "45321000",
        "published",
        published_days_ago=5,
        deadline_in_days=35,
        additional_cpv=("45421000", "45331100"),
        lots=(
            ("Isolation thermique par l'extérieur", "45321000", "1200000"),
            ("Menuiseries extérieures", "45421000", "850000"),
            ("Chaufferie et ventilation", "45331100", "640000"),
        ),
        estimated_value="2690000",
        duration_months=18,
        commune="Dijon",
        department="21",
        insee_code="21231",
    ),
    DemoConsultation(
        "region",
        _agent("region"),
        "2026-MOB-007",
        "Transport scolaire : lignes régulières de l'Yonne",
        "Exécution de services réguliers de transport de voyageurs, principalement scolaires.",
        "services",
        "open",
        "60112000",
        "published",
        published_days_ago=12,
        deadline_in_days=9,
        estimated_value="4300000",
        duration_months=48,
        department="89",
    ),
    DemoConsultation(
        "region",
        _agent("region"),
        "2026-NUM-003",
        "Fourniture d'ordinateurs portables pour les lycéens",
        "Accord-cadre de fourniture d'ordinateurs portables et de services associés.",
        "supplies",
        "open",
        "30213100",
        "draft",
        estimated_value="3100000",
        duration_months=36,
    ),
    DemoConsultation(
        "region",
        _agent("region"),
        "2026-LYC-009",
        "Restauration du clos et couvert du lycée Carnot",
        "Réfection des toitures et des façades du lycée Carnot à Dijon.",
        "works",
        "open",
        "45261000",
        "closed",
        published_days_ago=45,
        deadline_in_days=-2,
        estimated_value="980000",
        commune="Dijon",
        department="21",
        insee_code="21231",
    ),
    DemoConsultation(
        "region",
        _agent("region"),
        "2026-NUM-001",
        "Maintenance du réseau informatique des lycées",
        "Maintenance préventive et corrective des réseaux des lycées de la région.",
        "services",
        "open",
        "50312000",
        "opened",
        published_days_ago=60,
        deadline_in_days=-20,
        estimated_value="540000",
        duration_months=36,
    ),
    DemoConsultation(
        "region",
        _agent("region"),
        "2025-MOB-031",
        "Signalétique des gares routières",
        "Conception, fourniture et pose de la signalétique des gares routières régionales.",
        "supplies",
        "open",
        "34928470",
        "awarded",
        published_days_ago=120,
        deadline_in_days=-80,
        estimated_value="310000",
        reason="Attribuée à l'offre économiquement la plus avantageuse.",
    ),
    DemoConsultation(
        "departement",
        _agent("departement"),
        "2026-RD-022",
        "Renforcement de chaussée sur la RD 974",
        "Travaux de renforcement de chaussée entre Nuits-Saint-Georges et Beaune.",
        "works",
        "mapa",
        "45233141",
        "published",
        published_days_ago=3,
        deadline_in_days=21,
        estimated_value="420000",
        duration_months=4,
        commune="Nuits-Saint-Georges",
        department="21",
        insee_code="21464",
        variants_allowed=True,
    ),
    DemoConsultation(
        "departement",
        _agent("departement"),
        "2026-COL-004",
        "Restauration scolaire des collèges : denrées",
        "Fourniture de denrées alimentaires pour les collèges du département.",
        "supplies",
        "open",
        "15000000",
        "unsuccessful",
        published_days_ago=90,
        deadline_in_days=-50,
        lots=(("Produits laitiers", "15500000", "180000"), ("Fruits et légumes", "03221000", "220000")),
        reason="Aucune offre reçue pour le lot 1, offre irrégulière pour le lot 2.",
    ),
    DemoConsultation(
        "departement",
        _agent("departement"),
        "2026-AUT-002",
        "Étude des besoins en établissements pour personnes âgées",
        "Étude prospective des besoins d'hébergement des personnes âgées.",
        "services",
        "mapa",
        "79311000",
        "abandoned",
        published_days_ago=75,
        deadline_in_days=-40,
        reason="Le besoin a été redéfini ; une nouvelle consultation sera lancée.",
    ),
    DemoConsultation(
        "commune",
        _agent("commune"),
        "2026-ST-011",
        "Entretien des espaces verts de la ville de Beaune",
        "Tonte, taille et désherbage des espaces verts communaux.",
        "services",
        "mapa",
        "77310000",
        "published",
        published_days_ago=2,
        deadline_in_days=16,
        estimated_value="95000",
        duration_months=12,
        commune="Beaune",
        department="21",
        insee_code="21054",
    ),
    DemoConsultation(
        "commune",
        _agent("commune"),
        "2026-ST-008",
        "Illuminations de fin d'année",
        "Location, pose et dépose des illuminations de fin d'année.",
        "services",
        "mapa",
        "31527260",
        "cancelled",
        published_days_ago=20,
        deadline_in_days=10,
        reason="Erreur dans le cahier des charges ; la consultation sera relancée.",
    ),
    DemoConsultation(
        "commune",
        _agent("commune"),
        "2026-CP-002",
        "Assurance dommages aux biens de la commune",
        "Contrat d'assurance dommages aux biens.",
        "services",
        "open",
        "66515000",
        "draft",
    ),
)


def _at(moment):
    """Run the services as if the platform clock showed `moment` (see above)."""
    from unittest import mock

    from ebourgogne.core import clock

    return mock.patch.object(clock, "now", lambda: moment)


def _paris_day(days: int, hour: int):
    """`hour`:00 Paris time, `days` days from today (an hour that exists once on every day)."""
    import datetime as dt

    from ebourgogne.core import clock

    paris = clock.PARIS
    day = clock.now().astimezone(paris).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, 0), tzinfo=paris).astimezone(dt.UTC)


# The tender files of every demo consultation: small text files, so that the demo shows the DCE, its
# ZIP, the download register and the rectifications without shipping documents.
TENDER_FILES: tuple[tuple[str, str], ...] = (
    (
        "Règlement de la consultation.txt",
        "RÈGLEMENT DE LA CONSULTATION\n\n{title}\nRéférence : {reference}\n\n"
        "Article 1 — Objet de la consultation\n{object}\n\n"
        "Article 2 — Conditions de la consultation\nLes offres sont remises par voie électronique sur e-bourgogne.\n",
    ),
    (
        "CCAP - Cahier des clauses administratives particulières.txt",
        "CAHIER DES CLAUSES ADMINISTRATIVES PARTICULIÈRES\n\n{title}\nRéférence : {reference}\n",
    ),
    (
        "CCTP - Cahier des clauses techniques particulières.txt",
        "CAHIER DES CLAUSES TECHNIQUES PARTICULIÈRES\n\n{title}\n\n{object}\n",
    ),
    ("Bordereau des prix unitaires.csv", "Poste;Désignation;Unité;Prix unitaire HT\n1;{title};forfait;\n"),
)


def _tender_file(name: str, content: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    content_type = "text/csv" if name.endswith(".csv") else "text/plain"
    return SimpleUploadedFile(name, content.encode("utf-8"), content_type=content_type)


def _add_tender_files(consultation, agent) -> None:
    from ebourgogne.dce import services as dce_services

    values = {"title": consultation.title, "reference": consultation.reference, "object": consultation.object}
    for name, template in TENDER_FILES:
        dce_services.upload_file(
            acting_user=agent, consultation=consultation, uploaded=_tender_file(name, template.format(**values))
        )


def _question_and_rectification(consultation, agent, users: dict, organisations: dict) -> None:
    """A company member asks a question, the buyer answers it and publishes a rectification."""
    import datetime as dt

    from ebourgogne.core import clock
    from ebourgogne.dce import services as dce_services
    from ebourgogne.questions import services as question_services

    question = question_services.question_ask(
        acting_user=users[_email("membre.tp-auxois")],
        company=organisations["tp-auxois"],
        consultation=consultation,
        text="Une visite des lieux est-elle prévue avant la remise des offres ?",
    )
    with _at(clock.now() + dt.timedelta(hours=2)):
        question_services.question_answer(
            acting_user=agent,
            question=question,
            answer="Oui : une visite facultative est organisée ; le règlement de la consultation rectifié en "
            "donne la date.",
        )
        dce_services.upload_file(
            acting_user=agent,
            consultation=consultation,
            uploaded=_tender_file("Avis de visite des lieux.txt", "Une visite facultative des lieux est organisée.\n"),
        )
        dce_services.publish_changes(
            acting_user=agent, consultation=consultation, reason="Ajout de l'avis de visite des lieux."
        )


def _deposit_bid(consultation, user, company, *, second: bool = False) -> None:
    """A sealed bid as a company's browser makes it: small files encrypted with age to the consultation's
    recipient (pyrage here), uploaded through the tender services, then deposited (receipt included)."""
    import io
    import zipfile

    import pyrage

    from ebourgogne.tenders import services as tender_services

    recipient = pyrage.x25519.Recipient.from_str(consultation.opening_key.recipient)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("Acte d'engagement.txt", f"ACTE D'ENGAGEMENT\n{consultation.title}\n{company.name}\n")
        bundle.writestr("Bordereau des prix.csv", "Poste;Prix HT\n1;{}\n".format("98 500" if second else "104 200"))
    files = (
        ("application", "Lettre de candidature (DC1).txt", f"DC1 — {company.name} — SIRET {company.siret}\n".encode()),
        ("offer", "Mémoire technique.txt", f"Mémoire technique de {company.name}\n".encode()),
        ("offer", "Offre financière.zip", archive.getvalue()),
    )
    bid = tender_services.bid_create(acting_user=user, company=company, consultation_id=consultation.pk)
    for envelope, name, content in files:
        sealed = pyrage.encrypt(content, [recipient])
        bid_file = tender_services.file_announce(
            acting_user=user, company=company, bid=bid, envelope=envelope, name=name, size=len(sealed)
        )
        tender_services.upload_chunk(
            acting_user=user,
            company=company,
            bid_file=bid_file,
            offset=0,
            stream=io.BytesIO(sealed),
            content_length=len(sealed),
        )
    tender_services.bid_deposit(acting_user=user, company=company, bid=bid)


def _create_consultations(organisations: dict, users: dict) -> int:
    import datetime as dt

    from ebourgogne.consultations import services
    from ebourgogne.consultations.models import State
    from ebourgogne.core import clock

    rectified = False  # the first consultation in progress gets a question, its answer and a rectification
    for spec in CONSULTATIONS:
        agent = users[spec.agent]
        organisation = organisations[spec.organisation]
        bids = _paris_day(spec.deadline_in_days, 17 if spec.deadline_in_days % 2 else 12)
        published_at = clock.now() - dt.timedelta(days=spec.published_days_ago, hours=2)
        questions = bids - dt.timedelta(days=8)
        fields = {
            "reference": spec.reference,
            "title": spec.title,
            "object": spec.object,
            "contract_type": spec.contract_type,
            "procedure": spec.procedure,
            "main_cpv": spec.main_cpv,
            "additional_cpv": list(spec.additional_cpv),
            "lots": [{"title": title, "main_cpv": code, "estimated_value": value} for title, code, value in spec.lots],
            "estimated_value": spec.estimated_value,
            "duration_months": spec.duration_months,
            "commune": spec.commune,
            "department": spec.department,
            "insee_code": spec.insee_code,
            "variants_allowed": spec.variants_allowed,
            "required_documents": DOCUMENTS,
            "contact_name": "Service de la commande publique",
            "contact_email": f"marches.{spec.organisation}@{DEMO_DOMAIN}",
            "questions_deadline": questions,
            "bids_deadline": bids,
            "planned_opening_at": bids + dt.timedelta(days=1),
        }
        when = published_at if spec.state != State.DRAFT else clock.now()
        with _at(when - dt.timedelta(hours=1)):
            consultation = services.consultation_create(acting_user=agent, organisation=organisation, **fields)
            _add_tender_files(consultation, agent)
        if spec.state == State.DRAFT:
            continue
        with _at(published_at):
            services.consultation_publish(acting_user=agent, consultation=consultation)
        if spec.state == State.PUBLISHED:
            if not rectified:
                rectified = True
                with _at(published_at + dt.timedelta(hours=20)):
                    _question_and_rectification(consultation, agent, users, organisations)
                # One sealed bid already in: the buyer sees that one bid arrived, nothing more.
                with _at(published_at + dt.timedelta(days=2)):
                    _deposit_bid(
                        consultation, users[_email("membre.saone-ingenierie")], organisations["saone-ingenierie"]
                    )
            continue
        if spec.state == State.CLOSED:
            # Bids to open: two companies in time (one deposited twice: the first is superseded) and a
            # late one. The commission opens them with two of its three members' passphrases.
            auxois, saone = organisations["tp-auxois"], organisations["saone-ingenierie"]
            with _at(bids - dt.timedelta(days=6)):
                _deposit_bid(consultation, users[_email("membre.tp-auxois")], auxois)
            with _at(bids - dt.timedelta(days=1)):
                _deposit_bid(consultation, users[_email("membre.tp-auxois")], auxois, second=True)
            with _at(bids - dt.timedelta(hours=3)):
                _deposit_bid(consultation, users[_email("membre.saone-ingenierie")], saone)
            with _at(bids + dt.timedelta(minutes=4)):
                _deposit_bid(consultation, users[_email("admin.saone-ingenierie")], saone, second=True)
        if spec.state == State.CANCELLED:
            with _at(published_at + dt.timedelta(days=3)):
                services.consultation_cancel(acting_user=agent, consultation=consultation, reason=spec.reason)
            continue
        with _at(bids):
            services.consultation_close(consultation=consultation)
        if spec.state == State.CLOSED:
            continue
        with _at(bids + dt.timedelta(days=1, hours=1)):
            services.consultation_open(acting_user=agent, consultation=consultation)
        if spec.state == State.OPENED:
            continue
        with _at(bids + dt.timedelta(days=15)):
            services.consultation_set_outcome(
                acting_user=agent, consultation=consultation, outcome=spec.state, reason=spec.reason
            )
    return len(CONSULTATIONS)


# --- Demo commission meeting ------------------------------------------------------------------------


MEETING_CONSULTATION = "2026-LYC-009"  # the Région's closed consultation, bids waiting to be opened


def _create_meetings(organisations: dict, users: dict) -> int:
    """The Région's default commission is convened, through the real services, to a meeting a week from
    now: the opening of the bids of its closed consultation, then questions diverses. The convocations are
    issued (their evidence recorded, their e-mails queued for the outbox); the member Marc Dupuis has
    opened his, acknowledged it and answered "present", the two others have not answered yet."""
    import datetime as dt

    from ebourgogne.commissions.models import Commission
    from ebourgogne.consultations.models import Consultation
    from ebourgogne.meetings import convocations
    from ebourgogne.meetings import services as meeting_services
    from ebourgogne.meetings.models import AgendaItemKind, Convocation, Response

    organisation = organisations["region"]
    agent = users[_agent("region")]
    member = users[_email("commission.region")]
    commission = Commission.objects.get(organisation=organisation, is_default=True)
    consultation = Consultation.objects.get(organisation=organisation, reference=MEETING_CONSULTATION)
    starts_at = _paris_day(7, 14)
    meeting = meeting_services.meeting_create(
        acting_user=agent,
        organisation=organisation,
        commission=commission.pk,
        title="Commission d'appel d'offres — ouverture des plis du lycée Carnot",
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(hours=2),
        place="Salle des commissions, 17 boulevard de la Trémouille, Dijon",
    )
    meeting_services.agenda_item_add(
        acting_user=agent, meeting=meeting, kind=AgendaItemKind.OPENING, consultation=consultation.pk
    )
    meeting_services.agenda_item_add(
        acting_user=agent,
        meeting=meeting,
        kind=AgendaItemKind.OTHER,
        title="Questions diverses",
        description="Calendrier des prochaines séances de la commission.",
    )
    meeting = meeting_services.meeting_convene(acting_user=agent, meeting=meeting)
    convocation = Convocation.objects.get(meeting=meeting, user=member)
    convocations.record_opening(convocation, signed_in=True)
    convocation = convocations.convocation_acknowledge(convocation=convocation, acting_user=member)
    convocations.convocation_answer(convocation=convocation, acting_user=member, response=Response.PRESENT)
    return 1


def _seed_bulk() -> str:
    """Bulk realistic data from the organisations app's generator (it skips the names already taken)."""
    try:
        from ebourgogne.organisations.seeding import seed
    except ImportError:
        return ""
    counts = seed(buyers=BULK_BUYERS, companies=BULK_COMPANIES, seed=BULK_SEED)
    return "generated: " + ", ".join(f"{count} {name}" for name, count in counts.items())
