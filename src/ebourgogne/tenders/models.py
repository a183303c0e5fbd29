"""Sealed electronic bids: what a company deposits, what the platform can prove it received, and what
the commission opened.

- `Bid`: one deposit attempt of a company on a consultation (or some of its lots): a draft while the
  files upload, then deposited (its receipt issued). Successive deposits are separate bids; the earlier
  ones are superseded. A late deposit is kept, sealed, and never opened with the others. A backup copy
  (copie de sauvegarde) is a bid of kind `backup`.
- `BidFile`: one age-encrypted file of an envelope (candidature or offre), uploaded in resumable chunks;
  the platform stores only the ciphertext and its SHA-256.
- `Receipt`: the accusé de réception: canonical JSON, its digest and an RFC 3161 timestamp token.
- `Opening` / `OpenedFile`: the opening of a consultation's bids and the decrypted files.
- `Incident`: the platform's incident log, kept as evidence for late bids (CE RATP 2021).

Visibility: a company sees its own bids; the buyer sees nothing before the deadline but their number,
the deposit register after it, and contents only after the opening (see `selectors`).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class BidKind(models.TextChoices):
    BID = "bid", _("Offre")
    BACKUP = "backup", _("Copie de sauvegarde")


class BidState(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    DEPOSITED = "deposited", _("Déposé")


class Envelope(models.TextChoices):
    APPLICATION = "application", _("Candidature")
    OFFER = "offer", _("Offre")


class Bid(models.Model):
    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.PROTECT, related_name="bids")
    company = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="bids")
    kind = models.CharField(_("nature"), max_length=16, choices=BidKind.choices, default=BidKind.BID)
    lots = models.ManyToManyField("consultations.Lot", blank=True, related_name="bids", verbose_name=_("lots"))
    state = models.CharField(_("état"), max_length=16, choices=BidState.choices, default=BidState.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créé le"), auto_now_add=True)
    # Evidence for late bids: when the first byte of the first file arrived.
    upload_started_at = models.DateTimeField(_("envoi commencé le"), null=True, blank=True)
    # The instant the last byte was stored durably (after fsync) and the bidder had confirmed.
    deposited_at = models.DateTimeField(_("déposé le"), null=True, blank=True)
    deposited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    number = models.PositiveIntegerField(_("numéro d'ordre du dépôt"), null=True, blank=True)  # per consultation
    is_late = models.BooleanField(_("hors délai"), default=False)
    superseded_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("remplacé par")
    )
    # A backup copy declared on paper (physical) instead of deposited here.
    physical_backup_declared = models.BooleanField(_("copie de sauvegarde papier annoncée"), default=False)
    opened_at = models.DateTimeField(_("ouvert le"), null=True, blank=True)
    destroyed_at = models.DateTimeField(_("détruit le"), null=True, blank=True)  # unopened backup copies

    class Meta:
        verbose_name = _("pli")
        verbose_name_plural = _("plis")
        ordering = ["consultation", "number", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["consultation", "number"], condition=Q(number__isnull=False), name="bid_number_unique"
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(deposited_at__isnull=False, number__isnull=False),
                name="bid_deposited_has_time",
            ),
        ]
        indexes = [models.Index(fields=["consultation", "state"], name="bid_consultation_state")]

    def __str__(self) -> str:
        return f"{self.consultation_id} / {self.company_id} / {self.number or 'brouillon'}"


class FileState(models.TextChoices):
    UPLOADING = "uploading", _("Envoi en cours")
    COMPLETE = "complete", _("Reçu")


class BidFile(models.Model):
    bid = models.ForeignKey(Bid, on_delete=models.CASCADE, related_name="files")
    upload_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)  # the public name of the upload
    envelope = models.CharField(_("enveloppe"), max_length=16, choices=Envelope.choices)
    name = models.CharField(_("nom du fichier"), max_length=255)  # the plaintext file's name, as the bidder gave it
    size = models.BigIntegerField(_("taille chiffrée annoncée (octets)"))
    received = models.BigIntegerField(_("octets reçus"), default=0)
    sha256 = models.CharField(_("SHA-256 du fichier chiffré"), max_length=64, blank=True)
    state = models.CharField(_("état"), max_length=16, choices=FileState.choices, default=FileState.UPLOADING)
    from_vault = models.BooleanField(_("issu du coffre-fort"), default=False)
    storage_name = models.CharField(max_length=500, blank=True)  # where the ciphertext lives once complete
    started_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("fichier chiffré")
        verbose_name_plural = _("fichiers chiffrés")
        ordering = ["bid", "envelope", "id"]

    def __str__(self) -> str:
        return self.name


class Receipt(models.Model):
    bid = models.OneToOneField(Bid, on_delete=models.PROTECT, related_name="receipt")
    number = models.CharField(_("numéro d'accusé de réception"), max_length=40, unique=True)
    issued_at = models.DateTimeField(_("émis le"))
    # The receipt's content exactly as signed: canonical JSON (sorted keys, UTF-8, no spaces).
    payload = models.BinaryField()
    digest = models.CharField(_("empreinte SHA-256"), max_length=64)
    timestamp_token = models.BinaryField(null=True, blank=True)  # RFC 3161 TimeStampToken (DER)
    timestamp_authority = models.CharField(max_length=200, blank=True)
    is_late = models.BooleanField(_("hors délai"), default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("accusé de réception")
        verbose_name_plural = _("accusés de réception")

    def __str__(self) -> str:
        return self.number


class OpeningState(models.TextChoices):
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminée")
    FAILED = "failed", _("Échouée")


class Opening(models.Model):
    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.PROTECT, related_name="openings")
    state = models.CharField(_("état"), max_length=16, choices=OpeningState.choices, default=OpeningState.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    started_at = models.DateTimeField(_("commencée le"))
    finished_at = models.DateTimeField(_("terminée le"), null=True, blank=True)
    members = models.JSONField(_("membres ayant présenté leur part"), default=list)
    report = models.JSONField(_("procès-verbal d'ouverture"), default=dict)  # what was opened, late, superseded
    error = models.TextField(blank=True)
    is_practice = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("ouverture des plis")
        verbose_name_plural = _("ouvertures des plis")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.consultation_id} — {self.started_at:%Y-%m-%d %H:%M}"


class OpenedStatus(models.TextChoices):
    OK = "ok", _("Déchiffré")
    DECRYPT_FAILED = "decrypt_failed", _("Déchiffrement impossible")
    CORRUPT_ZIP = "corrupt_zip", _("Archive ZIP corrompue")
    HASH_MISMATCH = "hash_mismatch", _("Empreinte différente de l'accusé de réception")


class OpenedFile(models.Model):
    opening = models.ForeignKey(Opening, on_delete=models.CASCADE, related_name="files")
    bid_file = models.OneToOneField(BidFile, on_delete=models.PROTECT, related_name="opened")
    status = models.CharField(_("résultat"), max_length=16, choices=OpenedStatus.choices)
    detail = models.TextField(blank=True)
    storage_name = models.CharField(max_length=500, blank=True)  # the plaintext, for evaluation
    size = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("fichier ouvert")
        verbose_name_plural = _("fichiers ouverts")

    def __str__(self) -> str:
        return f"{self.bid_file_id}: {self.status}"


class Incident(models.Model):
    """The platform's incident log (unavailability, slowness), kept as evidence for late deposits."""

    started_at = models.DateTimeField(_("début"))
    ended_at = models.DateTimeField(_("fin"), null=True, blank=True)
    description = models.TextField(_("description"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("incident de la plateforme")
        verbose_name_plural = _("incidents de la plateforme")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} — {self.description[:60]}"
