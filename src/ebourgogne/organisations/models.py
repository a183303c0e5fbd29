"""Organisations (public buyers, companies, the platform operator), their services, members and invitations.

An organisation is the tenant: every piece of tenant data points to one, and is read only through
selectors scoped to the caller's organisation (see `ebourgogne.core.access`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from ebourgogne.organisations.roles import OrganisationKind, Role


class BuyerKind(models.TextChoices):
    REGION = "region", _("Région")
    DEPARTEMENT = "departement", _("Département")
    COMMUNE = "commune", _("Commune")
    EPCI = "epci", _("EPCI (intercommunalité)")
    SYNDICAT = "syndicat", _("Syndicat")
    HOSPITAL = "hospital", _("Établissement de santé")
    SCHOOL = "school", _("Établissement d'enseignement")
    OTHER = "other", _("Autre organisme public")


LEGAL_FORMS: tuple[tuple[str, str], ...] = (
    ("SAS", _("SAS — société par actions simplifiée")),
    ("SASU", _("SASU — société par actions simplifiée unipersonnelle")),
    ("SARL", _("SARL — société à responsabilité limitée")),
    ("EURL", _("EURL — entreprise unipersonnelle à responsabilité limitée")),
    ("SA", _("SA — société anonyme")),
    ("SNC", _("SNC — société en nom collectif")),
    ("SCOP", _("SCOP — société coopérative de production")),
    ("SCIC", _("SCIC — société coopérative d'intérêt collectif")),
    ("SELARL", _("SELARL — société d'exercice libéral à responsabilité limitée")),
    ("EI", _("EI — entreprise individuelle")),
    ("GIE", _("GIE — groupement d'intérêt économique")),
    ("ASSOCIATION", _("Association")),
    ("AUTRE", _("Autre forme")),
)


class Organisation(models.Model):
    kind = models.CharField(_("type"), max_length=16, choices=OrganisationKind.choices)
    name = models.CharField(_("nom"), max_length=255)
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    # Identification. Buyers: SIRET (14 digits). Companies: SIREN (9 digits), SIRET of the head office optional.
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True)
    # Public buyers only.
    buyer_kind = models.CharField(_("nature de l'acheteur"), max_length=16, choices=BuyerKind.choices, blank=True)
    # Companies only.
    legal_form = models.CharField(_("forme juridique"), max_length=100, blank=True)
    naf_code = models.CharField(_("code NAF"), max_length=6, blank=True)
    is_sme = models.BooleanField(_("PME"), default=False)
    # Address.
    street = models.CharField(_("adresse"), max_length=255, blank=True)
    postal_code = models.CharField(_("code postal"), max_length=5, blank=True)
    city = models.CharField(_("commune"), max_length=120, blank=True)
    insee_code = models.CharField(_("code INSEE de la commune"), max_length=5, blank=True)
    department = models.CharField(_("département"), max_length=3, blank=True)
    email = models.EmailField(_("adresse électronique de contact"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["kind", "name"]),
            models.Index(fields=["siren"]),
            models.Index(fields=["siret"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=OrganisationKind.values), name="organisation_kind_valid"),
            models.UniqueConstraint(
                fields=["siret"], condition=Q(kind=OrganisationKind.BUYER), name="organisation_buyer_siret_unique"
            ),
            models.UniqueConstraint(
                fields=["siren"], condition=Q(kind=OrganisationKind.COMPANY), name="organisation_company_siren_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_buyer(self) -> bool:
        return self.kind == OrganisationKind.BUYER

    @property
    def is_company(self) -> bool:
        return self.kind == OrganisationKind.COMPANY


class BuyerService(models.Model):
    """A service or sub-entity of a public buyer (direction, pôle, établissement...)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="services")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    name = models.CharField(_("nom"), max_length=255)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("service")
        verbose_name_plural = _("services")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["organisation", "name"], name="buyerservice_unique_name")]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """One role of one person in one organisation. A person may hold several roles (several rows)."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("rôle"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("appartenance")
        verbose_name_plural = _("appartenances")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user", "role"], name="membership_unique_role"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]
        indexes = [models.Index(fields=["user", "organisation"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} — {self.organisation}"


class Invitation(models.Model):
    """An invitation by e-mail to take a role in an organisation. Only a hash of the token is stored."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("adresse électronique"))
    role = models.CharField(_("rôle"), max_length=32, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["organisation", "email"])]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"

    @property
    def status(self) -> str:
        """pending, accepted, revoked or expired (at the platform's current time)."""
        from ebourgogne.core.clock import now

        if self.accepted_at is not None:
            return "accepted"
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now():
            return "expired"
        return "pending"

    @property
    def is_pending(self) -> bool:
        return self.status == "pending"
