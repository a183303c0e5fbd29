"""The company vault (coffre-fort): documents a company registers once and reuses in its bids.

- `CompanyKey`: the company's data key (256 random bits), stored only wrapped by the platform key
  (`vault.crypto`); every file of the company is encrypted with keys derived from it.
- `VaultDocument`: one typed document (Kbis extract, URSSAF certificate...), its title and dates, and its
  current version. Deleting is soft (`deleted_at`): the history stays for the audit trail, the document
  leaves every list and download.
- `VaultDocumentVersion`: one uploaded file, encrypted at rest (`vault.crypto`, `vault.storage`), with
  what the company sent (name, type, size, SHA-256 of the plaintext). Versions are never rewritten.
- `ReminderSent`: the sent-log of expiry reminders, one row per (document, threshold, validity end date),
  so that a reminder goes once per threshold whatever the number of runs of the job; a new version with a
  new validity end date gets its own reminders.
- `VaultGrant`: R2143-13 — a company lets a named buyer read the current versions of chosen documents
  (or all) for one consultation of that buyer, until revoked.

Status of a document (`status_of`): expired after its validity end date, expiring within
`VAULT_EXPIRING_DAYS` (30) days, valid otherwise (or without an end date).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

EXPIRING_DAYS_DEFAULT = 30


class DocumentType(models.TextChoices):
    KBIS = "kbis", _("Extrait Kbis")
    URSSAF = "urssaf", _("Attestation de vigilance URSSAF")
    TAX = "tax", _("Attestation de régularité fiscale")
    INSURANCE = "insurance", _("Attestation d'assurance")
    DC_FORMS = "dc", _("Formulaires DC1 / DC2 ou leurs successeurs")
    DUME = "dume", _("DUME")
    REFERENCES = "references", _("Références")
    FINANCIAL = "financial", _("États financiers")
    BANK = "bank", _("Relevé d'identité bancaire (RIB)")
    OTHER = "other", _("Autre")


class Status(models.TextChoices):
    VALID = "valid", _("Valide")
    EXPIRING = "expiring", _("Expire bientôt")
    EXPIRED = "expired", _("Expiré")


def expiring_days() -> int:
    return int(getattr(settings, "VAULT_EXPIRING_DAYS", EXPIRING_DAYS_DEFAULT))


def status_of(valid_until: dt.date | None, today: dt.date) -> str:
    if valid_until is None:
        return Status.VALID
    if valid_until < today:
        return Status.EXPIRED
    if valid_until <= today + dt.timedelta(days=expiring_days()):
        return Status.EXPIRING
    return Status.VALID


class CompanyKey(models.Model):
    company = models.OneToOneField(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="vault_key", verbose_name=_("entreprise")
    )
    wrapped = models.BinaryField(_("clé de données chiffrée par la clé de la plateforme"))
    platform_key_id = models.CharField(_("empreinte de la clé de la plateforme"), max_length=16)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    rewrapped_at = models.DateTimeField(_("rechiffrée le"), null=True, blank=True)

    objects = ScopedManager(organisation="company")

    class Meta:
        verbose_name = _("clé de coffre-fort")

    def __str__(self) -> str:
        return f"vault key of {self.company_id}"


class VaultDocument(models.Model):
    company = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="vault_documents",
        verbose_name=_("entreprise"),
    )
    doc_type = models.CharField(_("type de document"), max_length=16, choices=DocumentType.choices)
    title = models.CharField(_("intitulé"), max_length=200)
    issue_date = models.DateField(_("date de délivrance"), null=True, blank=True)
    valid_until = models.DateField(_("fin de validité"), null=True, blank=True)
    current_version = models.ForeignKey(
        "vault.VaultDocumentVersion", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    deleted_at = models.DateTimeField(_("supprimé le"), null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(organisation="company")

    class Meta:
        verbose_name = _("document du coffre-fort")
        verbose_name_plural = _("documents du coffre-fort")
        ordering = ["doc_type", "title", "pk"]
        indexes = [models.Index(fields=["company", "deleted_at"]), models.Index(fields=["valid_until"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_until__isnull=True)
                | Q(issue_date__isnull=True)
                | Q(valid_until__gte=F("issue_date")),
                name="vault_document_dates_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()} — {self.title}"

    def status(self, today: dt.date) -> str:
        return status_of(self.valid_until, today)


class VaultDocumentVersion(models.Model):
    document = models.ForeignKey(VaultDocument, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    file_id = models.UUIDField(_("identifiant du fichier chiffré"), default=uuid.uuid4, unique=True, editable=False)
    storage_name = models.CharField(_("emplacement"), max_length=255)
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    content_type = models.CharField(_("type de contenu"), max_length=150)
    size = models.BigIntegerField(_("taille (octets)"))
    stored_size = models.BigIntegerField(_("taille chiffrée (octets)"))
    sha256 = models.CharField(_("SHA-256 du fichier"), max_length=64)
    issue_date = models.DateField(_("date de délivrance"), null=True, blank=True)
    valid_until = models.DateField(_("fin de validité"), null=True, blank=True)
    uploaded_at = models.DateTimeField(_("déposée le"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(organisation="document__company")

    class Meta:
        verbose_name = _("version d'un document")
        ordering = ["document", "-number"]
        constraints = [models.UniqueConstraint(fields=["document", "number"], name="vault_version_number_unique")]

    def __str__(self) -> str:
        return f"{self.original_name} (v{self.number})"


class ReminderSent(models.Model):
    document = models.ForeignKey(VaultDocument, on_delete=models.CASCADE, related_name="reminders")
    threshold_days = models.PositiveIntegerField(_("seuil (jours)"))
    valid_until = models.DateField(_("fin de validité rappelée"))
    sent_at = models.DateTimeField(_("envoyé le"))
    recipients = models.PositiveIntegerField(_("destinataires"), default=0)

    class Meta:
        verbose_name = _("rappel d'expiration envoyé")
        constraints = [
            models.UniqueConstraint(
                fields=["document", "threshold_days", "valid_until"], name="vault_reminder_once_per_threshold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_id}: {self.threshold_days} d before {self.valid_until}"


class VaultGrant(models.Model):
    """Read access of a buyer's staff to current versions of a company's documents, for one consultation.

    Plain manager: a grant is read by both sides (the company, the buyer); selectors filter explicitly."""

    company = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="vault_grants_given"
    )
    buyer = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="vault_grants_received"
    )
    consultation = models.ForeignKey(
        "consultations.Consultation", on_delete=models.PROTECT, related_name="vault_grants"
    )
    all_documents = models.BooleanField(_("tous les documents"), default=False)
    documents = models.ManyToManyField(VaultDocument, blank=True, related_name="grants")
    granted_at = models.DateTimeField(_("accordé le"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("accès accordé à un acheteur")
        ordering = ["-granted_at", "-pk"]
        indexes = [models.Index(fields=["buyer", "consultation", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.company} → {self.buyer} ({self.consultation_id})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
