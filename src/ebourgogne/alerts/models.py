"""Alerts: a company user's saved search, matched against each consultation published or changed.

- `Alert`: the criteria (the portal search's, several values allowed per criterion: OR inside a
  criterion, AND between criteria), the delivery (immediately, daily or weekly digest), a secret token for
  the private Atom feed. `terms` keeps the keywords as the database's full-text index spells them (see
  alerts.percolation), computed when the alert is saved; `compiled` the criteria normalised for the
  percolation (CPV prefixes, terms, bounds: alerts.percolation.precompile), also written on save.
- `AlertKey`: the inverted index of the active alerts (alerts.percolation): the few keys under which a
  consultation can find the alert. Rows exist only for active alerts.
- `AlertMatch`: a consultation an alert matched (once per alert and consultation). The mails, the
  digests and the feed read these rows.
- `AlertDelivery`: the sent-log, one row per (alert, period): "c<consultation id>" for an immediate
  mail, "d<YYYY-MM-DD>" for the daily digest of that day, "w<YYYY-Www>" for a weekly one. Its unique
  constraint is what makes a digest run idempotent.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def new_feed_token() -> str:
    return secrets.token_urlsafe(24)


class Delivery(models.TextChoices):
    IMMEDIATE = "immediate", _("Immédiatement (un courriel par consultation)")
    DAILY = "daily", _("Résumé quotidien")
    WEEKLY = "weekly", _("Résumé hebdomadaire")


class Alert(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("titulaire")
    )
    company = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entreprise"),
    )
    name = models.CharField(_("nom"), max_length=120)
    q = models.CharField(_("mots-clés"), max_length=200, blank=True)
    cpv_codes = models.JSONField(_("codes CPV"), default=list, blank=True)
    departments = models.JSONField(_("départements"), default=list, blank=True)
    buyers = models.JSONField(_("acheteurs"), default=list, blank=True)
    procedures = models.JSONField(_("procédures"), default=list, blank=True)
    contract_types = models.JSONField(_("types de marché"), default=list, blank=True)
    value_min = models.DecimalField(_("valeur minimale"), max_digits=15, decimal_places=2, null=True, blank=True)
    value_max = models.DecimalField(_("valeur maximale"), max_digits=15, decimal_places=2, null=True, blank=True)
    terms = models.JSONField(default=list, blank=True)  # the keywords as the full-text index spells them
    # The criteria normalised for percolation (alerts.percolation.precompile), written with the criteria.
    compiled = models.JSONField(default=dict, blank=True, editable=False)
    delivery = models.CharField(_("envoi"), max_length=16, choices=Delivery.choices, default=Delivery.DAILY)
    is_active = models.BooleanField(_("active"), default=True)
    feed_token = models.CharField(max_length=64, unique=True, default=new_feed_token)
    created_at = models.DateTimeField(_("créée le"))
    updated_at = models.DateTimeField(_("modifiée le"))

    class Meta:
        verbose_name = _("alerte")
        verbose_name_plural = _("alertes")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["delivery", "is_active", "id"], name="alerts_delivery_active")]

    def __str__(self) -> str:
        return self.name


class AlertKey(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField(max_length=255)

    class Meta:
        indexes = [models.Index(fields=["key", "alert"], name="alerts_key_alert")]

    def __str__(self) -> str:
        return self.key


class AlertDelivery(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="deliveries")
    period = models.CharField(max_length=32)
    sent_at = models.DateTimeField()
    matches = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "period"], name="alerts_delivery_once")]

    def __str__(self) -> str:
        return f"{self.alert_id}/{self.period}"


class AlertMatch(models.Model):
    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="matches")
    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.CASCADE, related_name="+")
    matched_at = models.DateTimeField()
    delivery = models.ForeignKey(AlertDelivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["alert", "consultation"], name="alerts_match_once")]
        indexes = [
            models.Index(fields=["alert", "-matched_at"], name="alerts_match_recent"),
            models.Index(fields=["alert"], condition=models.Q(delivery__isnull=True), name="alerts_match_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id}/{self.consultation_id}"


class FollowMute(models.Model):
    """An address that asked for no more mails about a consultation it follows (as a downloader of the DCE
    or as the author of a question): questions.receivers and questions.services skip it, and the DCE's
    own registration is unsubscribed at the same time (dce.services.unsubscribe)."""

    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.CASCADE, related_name="+")
    email = models.EmailField()
    muted_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["consultation", "email"], name="alerts_follow_mute_once")]

    def __str__(self) -> str:
        return f"{self.consultation_id}/{self.email}"
