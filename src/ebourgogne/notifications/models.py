"""The mail outbox: every message the platform sent while EBOURGOGNE_EMAIL=outbox (the demo), and every
message an SMTP server refused for good, so that no mail is lost silently."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ebourgogne.core import clock


class OutboxMessage(models.Model):
    class Status(models.TextChoices):
        KEPT = "kept", _("Conservé dans la boîte d'envoi")
        FAILED = "failed", _("Échec d'envoi")
        RESENT = "resent", _("Échec d'envoi, renvoyé")

    created_at = models.DateTimeField(_("date"), default=clock.now)
    status = models.CharField(_("statut"), max_length=16, choices=Status.choices, default=Status.KEPT)
    from_email = models.CharField(_("expéditeur"), max_length=320)
    to = models.JSONField(_("destinataires"), default=list)
    cc = models.JSONField(_("copie"), default=list)
    bcc = models.JSONField(_("copie cachée"), default=list)
    reply_to = models.JSONField(_("répondre à"), default=list)
    # Every address, in lower case, for the operators' search.
    recipients = models.TextField(_("toutes les adresses"), blank=True)
    subject = models.TextField(_("objet"), blank=True)
    text_body = models.TextField(_("texte"), blank=True)
    html_body = models.TextField(_("version HTML"), blank=True)
    headers = models.JSONField(_("en-têtes"), default=dict)
    attachments = models.JSONField(_("pièces jointes"), default=list)
    error = models.TextField(_("erreur"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("tentatives"), default=0)
    resent_at = models.DateTimeField(_("renvoyé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("courriel")
        verbose_name_plural = _("courriels")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["-created_at", "-id"], name="outbox_newest_first")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["kept", "failed", "resent"]), name="outboxmessage_status_valid"
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
