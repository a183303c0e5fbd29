"""Questions and answers of a consultation, and information the buyer publishes on its own.

A question is private (buyer and asker) until answered; the answer is published to everyone without the
asker's identity and e-mailed to every identified downloader.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Kind(models.TextChoices):
    QUESTION = "question", _("Question")
    INFORMATION = "information", _("Information de l'acheteur")


class Question(models.Model):
    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.CASCADE, related_name="questions")
    kind = models.CharField(_("nature"), max_length=16, choices=Kind.choices, default=Kind.QUESTION)
    number = models.PositiveIntegerField(_("numéro"))  # per consultation, shown publicly
    text = models.TextField(_("question"))  # the information's text when kind = information
    # The asker's own wording when the buyer rephrased the question for publication (to remove what would
    # identify the asker); kept for the buyer, never published.
    original_text = models.TextField(_("texte d'origine"), blank=True)
    # The asker (never shown publicly).
    asked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    asker_organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    asker_email = models.EmailField(blank=True)
    asked_at = models.DateTimeField(_("posée le"))
    answer = models.TextField(_("réponse"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)  # answer or information made public
    # Published after the R2132-6 limit (formalised procedures: 6 days before the bid deadline, 4 in urgency).
    published_late = models.BooleanField(_("publiée tardivement"), default=False)
    # Last change of a published answer or information; the earlier texts are kept in AnswerRevision.
    updated_at = models.DateTimeField(_("modifiée le"), null=True, blank=True)

    objects = ScopedManager(organisation="consultation__organisation")

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["consultation", "number"]
        constraints = [models.UniqueConstraint(fields=["consultation", "number"], name="question_number_unique")]
        indexes = [models.Index(fields=["consultation", "published_at"], name="question_published")]

    def __str__(self) -> str:
        return f"Q{self.number}"


class AnswerRevision(models.Model):
    """The earlier text of a published answer (or information) replaced by an edit: an answer published to
    every bidder is never rewritten silently."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="revisions")
    previous_text = models.TextField(_("texte remplacé"))
    previous_published_at = models.DateTimeField(_("publié le"))
    replaced_at = models.DateTimeField(_("remplacé le"))
    replaced_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ScopedManager(organisation="question__consultation__organisation")

    class Meta:
        verbose_name = _("version antérieure d'une réponse")
        verbose_name_plural = _("versions antérieures des réponses")
        ordering = ["question", "replaced_at"]

    def __str__(self) -> str:
        return f"{self.question} ({self.replaced_at:%Y-%m-%d %H:%M})"
