"""A buyer's commissions (CAO, jury, MAPA commission...) and their members.

This is the part the sealed-bid issue needs: who the members are and the commission's opening-key policy
(k of n). Meetings, convocations and minutes build on it (the commission issue).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class CommissionKind(models.TextChoices):
    CAO = "cao", _("Commission d'appel d'offres (CAO)")
    JURY = "jury", _("Jury de concours")
    MAPA = "mapa", _("Commission MAPA")
    OTHER = "other", _("Autre commission")


class Voice(models.TextChoices):
    DELIBERATIVE = "deliberative", _("Voix délibérative")
    CONSULTATIVE = "consultative", _("Voix consultative")


class Seat(models.TextChoices):
    TITULAR = "titular", _("Titulaire")
    SUBSTITUTE = "substitute", _("Suppléant")


DEFAULT_OPENING_THRESHOLD = 2
DEFAULT_CONVOCATION_DELAY_DAYS = 5


class Commission(models.Model):
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="commissions", verbose_name=_("acheteur")
    )
    name = models.CharField(_("nom"), max_length=200)
    kind = models.CharField(_("nature"), max_length=16, choices=CommissionKind.choices, default=CommissionKind.CAO)
    # Opening keys: k of the n share holders are needed to open the bids (sealed-bid issue).
    opening_threshold = models.PositiveSmallIntegerField(
        _("nombre de membres nécessaires à l'ouverture des plis"), default=DEFAULT_OPENING_THRESHOLD
    )
    # Optionally one more share, held by the buyer's legal representative (escrow).
    escrow_holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("détenteur de la part de secours (représentant légal)"),
    )
    # After the opening: keep the rebuilt opening key (encrypted with the platform key) or erase it.
    keep_identity_after_opening = models.BooleanField(
        _("conserver la clé d'ouverture après l'ouverture des plis"), default=False
    )
    # Convocations: sent at least this many clear days before the meeting (CGCT L2121-12: five), unless urgent.
    convocation_delay_days = models.PositiveSmallIntegerField(
        _("délai de convocation (jours francs)"), default=DEFAULT_CONVOCATION_DELAY_DAYS
    )
    is_default = models.BooleanField(_("commission proposée par défaut"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("commission")
        verbose_name_plural = _("commissions")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="commission_name_unique"),
            models.CheckConstraint(condition=Q(opening_threshold__gte=1), name="commission_threshold_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class CommissionMember(models.Model):
    commission = models.ForeignKey(Commission, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="commission_seats", verbose_name=_("membre")
    )
    voice = models.CharField(_("voix"), max_length=16, choices=Voice.choices, default=Voice.DELIBERATIVE)
    seat = models.CharField(_("siège"), max_length=16, choices=Seat.choices, default=Seat.TITULAR)
    is_president = models.BooleanField(_("président"), default=False)
    substitute_for = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="substitutes",
        verbose_name=_("suppléant de"),
    )
    mandate_start = models.DateField(_("début du mandat"), null=True, blank=True)
    mandate_end = models.DateField(_("fin du mandat"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("membre de commission")
        verbose_name_plural = _("membres de commission")
        ordering = ["commission", "-is_president", "seat", "id"]
        constraints = [models.UniqueConstraint(fields=["commission", "user"], name="commission_member_unique")]

    def __str__(self) -> str:
        return f"{self.user} — {self.commission}"
