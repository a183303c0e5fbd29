"""Factories and pytest fixtures shared by every app's tests (and by the demo data).

- `UserFactory`: a person who can sign in at once: password `DEMO_PASSWORD`, e-mail address verified
  and primary (allauth `EmailAddress`).
- `BuyerFactory`, `CompanyFactory`: organisations with valid, unique SIRET / SIREN and a real commune.
- `MembershipFactory` and `make_member(org, role, user=None)`: a person holding a role.
  People holding a role that requires a second factor (buyer staff, commission members, operators)
  get a TOTP authenticator by default (`totp=False` to leave it out), so that pages behind the MFA
  requirement open for them; `totp_secret(user)` gives the secret to compute codes in browser tests.
- `sign_in(client, user)`: signs a test client in as after a full login with password and TOTP.

Fixtures: `buyer`, `other_buyer`, `company`, `buyer_admin`, `buyer_agent`, `commission_member`,
`company_admin`, `company_member`, `outsider` (admin of another buyer), `operator`, `platform`.
"""

from __future__ import annotations

import time
from typing import Any

import factory
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from allauth.mfa.utils import decrypt
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from ebourgogne.organisations.identifiers import siren_with_check_digit, siret_with_check_digit
from ebourgogne.organisations.models import BuyerKind, BuyerService, Invitation, Membership, Organisation
from ebourgogne.organisations.roles import MFA_REQUIRED_ROLES, OrganisationKind, Role

DEMO_PASSWORD = "demo-password-123!"  # noqa: S105 (a demo and test password, documented)

User = get_user_model()


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"personne{n}@exemple.test")
    full_name = factory.Sequence(lambda n: f"Camille Martin {n}")
    language = "fr"

    @classmethod
    def _create(cls, model_class, *args: Any, password: str = DEMO_PASSWORD, **kwargs: Any):
        user = model_class.objects.create_user(*args, password=password, **kwargs)
        EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
        return user


def _buyer_siret(n: int) -> str:
    return siret_with_check_digit(siren_with_check_digit(f"29{n % 1_000_000:06d}"), "0001")


def _company_siren(n: int) -> str:
    return siren_with_check_digit(f"8{n % 10_000_000:07d}")


class OrganisationFactory(DjangoModelFactory):
    class Meta:
        model = Organisation

    street = "1 place de la Libération"
    postal_code = "21000"
    city = "Dijon"
    insee_code = "21231"
    department = "21"


class BuyerFactory(OrganisationFactory):
    kind = OrganisationKind.BUYER
    name = factory.Sequence(lambda n: f"Commune d'essai {n}")
    slug = factory.Sequence(lambda n: f"acheteur-essai-{n}")
    siret = factory.Sequence(_buyer_siret)
    siren = factory.LazyAttribute(lambda organisation: organisation.siret[:9])
    buyer_kind = BuyerKind.COMMUNE


class CompanyFactory(OrganisationFactory):
    kind = OrganisationKind.COMPANY
    name = factory.Sequence(lambda n: f"Menuiserie d'essai {n}")
    slug = factory.Sequence(lambda n: f"entreprise-essai-{n}")
    siren = factory.Sequence(_company_siren)
    siret = factory.LazyAttribute(lambda organisation: siret_with_check_digit(organisation.siren, "0001"))
    legal_form = "SAS"
    naf_code = "43.32A"
    is_sme = True
    street = "12 rue des Ateliers"
    postal_code = "21200"
    city = "Beaune"
    insee_code = "21054"


class MembershipFactory(DjangoModelFactory):
    class Meta:
        model = Membership

    organisation = factory.SubFactory(BuyerFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.BUYER_ADMIN


class BuyerServiceFactory(DjangoModelFactory):
    class Meta:
        model = BuyerService

    organisation = factory.SubFactory(BuyerFactory)
    name = factory.Sequence(lambda n: f"Service d'essai {n}")


def give_totp(user: Any) -> str:
    """Activate an authenticator app for `user`; returns its secret (base32)."""
    existing = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if existing is not None:
        return decrypt(existing.data["secret"])
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_secret(user: Any) -> str | None:
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    return decrypt(authenticator.data["secret"]) if authenticator else None


def make_member(organisation: Organisation, role: str, user: Any = None, *, totp: bool | None = None) -> Any:
    """Give `role` in `organisation` to `user` (a new person when None); returns the user.

    Operators also get `is_staff`, as `operator_grant` does."""
    user = user or UserFactory()
    Membership.objects.create(organisation=organisation, user=user, role=role)
    if role == Role.PLATFORM_OPERATOR and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.__dict__.pop("_ebourgogne_is_operator", None)
    if totp if totp is not None else role in MFA_REQUIRED_ROLES:
        give_totp(user)
    return user


def make_operator(user: Any = None, *, totp: bool = True) -> Any:
    from ebourgogne.organisations.services import platform_organisation

    return make_member(platform_organisation(), Role.PLATFORM_OPERATOR, user, totp=totp)


def make_invitation(
    organisation: Organisation, email: str, role: str, *, invited_by: Any = None
) -> tuple[Invitation, str]:
    """An invitation as `invitation_create` makes it, without the permission check and the e-mail."""
    import secrets

    from ebourgogne.core.clock import now
    from ebourgogne.organisations.services import INVITATION_VALIDITY, token_hash

    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organisation=organisation,
        email=email,
        role=role,
        token_hash=token_hash(token),
        invited_by=invited_by,
        expires_at=now() + INVITATION_VALIDITY,
    )
    return invitation, token


def sign_in(client: Any, user: Any) -> Any:
    """Sign `client` in as `user`, as after a login with password and, when they have one, TOTP."""
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    session = client.session
    methods = [{"method": "password", "at": time.time(), "email": user.email}]
    authenticator = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).first()
    if authenticator is not None:
        methods.append({"method": "mfa", "at": time.time(), "id": authenticator.pk, "type": "totp"})
    session["account_authentication_methods"] = methods
    session.save()
    return client


# --- Fixtures ---------------------------------------------------------------------------------------


@pytest.fixture
def buyer(db) -> Organisation:
    return BuyerFactory(
        name="Commune de Beaune", slug="commune-de-beaune", city="Beaune", postal_code="21200", insee_code="21054"
    )


@pytest.fixture
def other_buyer(db) -> Organisation:
    return BuyerFactory(
        name="Commune d'Auxerre",
        slug="commune-d-auxerre",
        city="Auxerre",
        postal_code="89000",
        insee_code="89024",
        department="89",
    )


@pytest.fixture
def company(db) -> Organisation:
    return CompanyFactory(name="Menuiserie Bourguignonne", slug="menuiserie-bourguignonne")


@pytest.fixture
def buyer_admin(buyer) -> Any:
    return make_member(
        buyer, Role.BUYER_ADMIN, UserFactory(full_name="Alice Administratrice", email="alice@beaune.test")
    )


@pytest.fixture
def buyer_agent(buyer) -> Any:
    return make_member(buyer, Role.BUYER_AGENT, UserFactory(full_name="Bruno Agent", email="bruno@beaune.test"))


@pytest.fixture
def commission_member(buyer) -> Any:
    return make_member(
        buyer, Role.COMMISSION_MEMBER, UserFactory(full_name="Chantal Commission", email="chantal@beaune.test")
    )


@pytest.fixture
def company_admin(company) -> Any:
    return make_member(
        company, Role.COMPANY_ADMIN, UserFactory(full_name="David Dirigeant", email="david@menuiserie.test")
    )


@pytest.fixture
def company_member(company) -> Any:
    return make_member(
        company, Role.COMPANY_MEMBER, UserFactory(full_name="Emma Employée", email="emma@menuiserie.test")
    )


@pytest.fixture
def outsider(other_buyer) -> Any:
    """An administrator of another buyer: a stranger to `buyer` and `company`."""
    return make_member(
        other_buyer, Role.BUYER_ADMIN, UserFactory(full_name="Oscar Extérieur", email="oscar@auxerre.test")
    )


@pytest.fixture
def operator(db) -> Any:
    return make_operator(UserFactory(full_name="Paula Exploitante", email="paula@e-bourgogne.test"))


@pytest.fixture
def platform(db) -> Organisation:
    from ebourgogne.organisations.services import platform_organisation

    return platform_organisation()


# --- Consultations ----------------------------------------------------------------------------------


class ConsultationFactory(DjangoModelFactory):
    """A draft consultation of a buyer, with its main CPV code and dates a month ahead.

    `published=True` gives a consultation published yesterday (deadline in 30 days), written directly:
    tests of other apps use it as a starting point; tests of the lifecycle go through the services."""

    class Meta:
        model = "consultations.Consultation"
        skip_postgeneration_save = True

    class Params:
        published = factory.Trait(
            state="published",
            published_at=factory.LazyFunction(lambda: _now() - _days(1)),
        )

    organisation = factory.SubFactory(BuyerFactory)
    reference = factory.Sequence(lambda n: f"2026-{n:04d}")
    title = factory.Sequence(lambda n: f"Travaux de rénovation de l'école n° {n}")
    object = "Rénovation thermique et mise en accessibilité."
    contract_type = "works"
    procedure = "open"
    main_cpv_id = "45000000"
    department = "21"
    commune = "Dijon"
    insee_code = "21231"
    estimated_value = 250000
    contact_name = "Service de la commande publique"
    contact_email = "marches@exemple.test"
    questions_deadline = factory.LazyFunction(lambda: _now() + _days(20))
    bids_deadline = factory.LazyFunction(lambda: _now() + _days(30))

    @factory.post_generation
    def main_cpv_row(obj, create: bool, extracted: Any, **kwargs: Any) -> None:  # noqa: N805
        if create and obj.main_cpv_id:
            from django_scopes import scopes_disabled

            from ebourgogne.consultations.models import ConsultationCpv

            with scopes_disabled():
                ConsultationCpv.objects.get_or_create(
                    consultation=obj, lot=None, cpv_id=obj.main_cpv_id, defaults={"is_main": True}
                )


class LotFactory(DjangoModelFactory):
    class Meta:
        model = "consultations.Lot"

    consultation = factory.SubFactory(ConsultationFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Lot {n + 1}")
    estimated_value = 50000


def _now():
    from ebourgogne.core import clock

    return clock.now()


def _days(n: int):
    from datetime import timedelta

    return timedelta(days=n)


@pytest.fixture(autouse=True)
def _fresh_page_copies():
    """Each test starts with no kept page copies (core.pagecache): primary keys and frozen clocks repeat
    from one test to the next, a copy kept by an earlier test must not answer for a later one."""
    from ebourgogne.core import pagecache

    pagecache.clear()
    yield
