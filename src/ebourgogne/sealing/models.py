"""Opening keys: what makes a bid readable only after the deadline and only by k of n members.

- `PersonalKey`: a member's own age X25519 identity, stored only encrypted with the member's passphrase
  (age scrypt). One active key per person; rotation retires the old one and re-encrypts their shares.
- `ConsultationKey`: the consultation's opening key, made at publication. Only its public recipient
  (`age1...`) is kept; the identity is split into `KeyShare`s at once and erased.
- `KeyShare`: one Shamir share (GF(256)) of the identity, encrypted to a holder's personal key.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class PersonalKey(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="opening_keys")
    recipient = models.CharField(_("clé publique"), max_length=100)  # age1...
    # The age identity (AGE-SECRET-KEY-1...) encrypted with the member's passphrase (age scrypt).
    sealed_identity = models.BinaryField(_("clé privée chiffrée"))
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    retired_at = models.DateTimeField(_("remplacée le"), null=True, blank=True)

    class Meta:
        verbose_name = _("clé d'ouverture personnelle")
        verbose_name_plural = _("clés d'ouverture personnelles")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(retired_at__isnull=True), name="personal_key_one_active_per_user"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.recipient[:16]}…"


class KeyState(models.TextChoices):
    SEALED = "sealed", _("Scellée (aucune clé privée sur la plateforme)")
    REBUILT = "rebuilt", _("Reconstituée pour l'ouverture")
    RETAINED = "retained", _("Conservée après l'ouverture")
    ERASED = "erased", _("Effacée après l'ouverture")


class ConsultationKey(models.Model):
    consultation = models.OneToOneField(
        "consultations.Consultation", on_delete=models.CASCADE, related_name="opening_key"
    )
    recipient = models.CharField(_("clé publique de chiffrement"), max_length=100)  # age1...
    fingerprint = models.CharField(_("empreinte"), max_length=64)  # SHA-256 (hex) of the recipient string
    threshold = models.PositiveSmallIntegerField(_("seuil (k)"))
    share_count = models.PositiveSmallIntegerField(_("nombre de parts (n)"))
    commission = models.ForeignKey(
        "commissions.Commission", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(_("état"), max_length=16, choices=KeyState.choices, default=KeyState.SEALED)
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    rebuilt_at = models.DateTimeField(_("reconstituée le"), null=True, blank=True)
    # After the opening only, and only when the buyer's policy keeps it: the identity encrypted with the
    # platform's own key (never before the deadline). The practice consultation keeps its identity here
    # from the start: it is a training key, not a sealed one.
    retained_identity = models.BinaryField(null=True, blank=True)
    is_practice = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("clé d'ouverture de consultation")
        verbose_name_plural = _("clés d'ouverture de consultation")

    def __str__(self) -> str:
        return f"{self.consultation_id} — {self.recipient[:16]}…"


class KeyShare(models.Model):
    consultation_key = models.ForeignKey(ConsultationKey, on_delete=models.CASCADE, related_name="shares")
    holder = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="key_shares")
    personal_key = models.ForeignKey(PersonalKey, on_delete=models.PROTECT, related_name="shares")
    index = models.PositiveSmallIntegerField(_("numéro de part"))  # the Shamir x coordinate, 1..255
    is_escrow = models.BooleanField(_("part de secours"), default=False)
    sealed_share = models.BinaryField()  # age ciphertext of the share, to the holder's personal recipient
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("part de clé d'ouverture")
        verbose_name_plural = _("parts de clé d'ouverture")
        ordering = ["consultation_key", "index"]
        constraints = [
            models.UniqueConstraint(fields=["consultation_key", "index"], name="key_share_index_unique"),
            models.UniqueConstraint(fields=["consultation_key", "holder"], name="key_share_holder_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.consultation_key_id} #{self.index}"
