"""Evaluation of offers, award decisions and the letters that notify them.

The data, read by the award pages, the letters and the indicators (keep it plain):

- `Evaluation`: one per consultation without lots, or one per lot. Holds the scoring scale (0–10 or
  0–20), the abnormally-low threshold ratio and the standstill days (None = the procedure's default,
  see `awards.rules.standstill_days`). Its `Criterion` rows: at most one price criterion and quality
  criteria, each with sub-criteria whose weights sum to their parent's; top-level weights sum to 100.
- `Admission`: the admission of one opened bid's candidature (admitted / rejected, with the reason).
  Only bids opened in time can be admitted (`awards.rules.admissible_bids`).
- `Offer`: an admitted bid in one evaluation, with its price (€ HT) and the abnormally-low flag's
  follow-up (justification asked, then accepted or rejected by the buyer; a rejected one leaves the ranking).
- `Score`: one evaluator's mark of one offer on one leaf quality criterion (the price is never marked:
  it is computed by the formula). Consolidated score = mean of the evaluators' marks.
- `Award`: the decision of one evaluation: awarded (with the winning offer), unsuccessful (infructueux)
  or abandoned (sans suite), with its reason, the optional commission decision (`meetings.Decision`),
  the standstill end, and when the letters went out.
- `DocumentRequest`: the supporting documents asked of the winner, with a deadline.
- `Letter` + `LetterEvent`: each letter is a PDF stored once with its SHA-256; its events (sent, read)
  carry an RFC 3161 token over the SHA-256 of a canonical JSON that includes the letter's hash.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class Evaluation(models.Model):
    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.CASCADE, related_name="evaluations")
    lot = models.ForeignKey(
        "consultations.Lot", on_delete=models.CASCADE, null=True, blank=True, related_name="evaluations"
    )
    scale_max = models.PositiveSmallIntegerField(_("note maximale"), default=20)
    # An offer whose price is below ratio × mean of the other offers' prices is flagged.
    low_ratio = models.DecimalField(_("seuil d'offre anormalement basse"), max_digits=4, decimal_places=2, default=0.8)
    standstill_days = models.PositiveSmallIntegerField(_("délai de suspension (jours)"), null=True, blank=True)
    criteria_set_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="consultation__organisation")

    class Meta:
        verbose_name = _("analyse des offres")
        verbose_name_plural = _("analyses des offres")
        constraints = [
            models.UniqueConstraint(fields=["consultation", "lot"], name="evaluation_unique_lot"),
            models.UniqueConstraint(
                fields=["consultation"], condition=Q(lot__isnull=True), name="evaluation_unique_without_lot"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.consultation_id} / {self.lot_id or '-'}"


class CriterionKind(models.TextChoices):
    PRICE = "price", _("Prix")
    QUALITY = "quality", _("Valeur technique ou qualitative")


class Criterion(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="criteria")
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    kind = models.CharField(_("nature"), max_length=16, choices=CriterionKind.choices)
    name = models.CharField(_("intitulé"), max_length=200)
    weight = models.DecimalField(_("pondération (points sur 100)"), max_digits=6, decimal_places=2)
    position = models.PositiveSmallIntegerField(default=0)

    objects = ScopedManager(organisation="evaluation__consultation__organisation")

    class Meta:
        verbose_name = _("critère")
        verbose_name_plural = _("critères")
        ordering = ["evaluation", "position", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.weight})"


class AdmissionDecision(models.TextChoices):
    ADMITTED = "admitted", _("Admise")
    REJECTED = "rejected", _("Rejetée")


class Admission(models.Model):
    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.CASCADE, related_name="admissions")
    bid = models.OneToOneField("tenders.Bid", on_delete=models.PROTECT, related_name="admission")
    decision = models.CharField(_("décision"), max_length=16, choices=AdmissionDecision.choices)
    reason = models.TextField(_("motif"), blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField()

    objects = ScopedManager(organisation="consultation__organisation")

    class Meta:
        verbose_name = _("admission de candidature")
        verbose_name_plural = _("admissions de candidatures")

    def __str__(self) -> str:
        return f"{self.bid_id}: {self.decision}"


class LowOutcome(models.TextChoices):
    NONE = "", _("—")
    REQUESTED = "requested", _("Justification demandée")
    ACCEPTED = "accepted", _("Justification acceptée")
    REJECTED = "rejected", _("Offre rejetée comme anormalement basse")


class Offer(models.Model):
    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="offers")
    bid = models.ForeignKey("tenders.Bid", on_delete=models.PROTECT, related_name="award_offers")
    price = models.DecimalField(_("prix (€ HT)"), max_digits=15, decimal_places=2, null=True, blank=True)
    low_outcome = models.CharField(
        _("suite donnée à l'offre anormalement basse"), max_length=16, choices=LowOutcome.choices, blank=True
    )
    low_note = models.TextField(_("observations sur la justification"), blank=True)
    low_updated_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="evaluation__consultation__organisation")

    class Meta:
        verbose_name = _("offre évaluée")
        verbose_name_plural = _("offres évaluées")
        ordering = ["evaluation", "bid__number"]
        constraints = [models.UniqueConstraint(fields=["evaluation", "bid"], name="offer_unique_bid")]

    def __str__(self) -> str:
        return f"{self.evaluation_id} / {self.bid_id}"


class Score(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="scores")
    criterion = models.ForeignKey(Criterion, on_delete=models.CASCADE, related_name="scores")
    evaluator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    value = models.DecimalField(_("note"), max_digits=6, decimal_places=2)
    comment = models.TextField(_("appréciation"), blank=True)
    updated_at = models.DateTimeField()

    objects = ScopedManager(organisation="offer__evaluation__consultation__organisation")

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        constraints = [
            models.UniqueConstraint(fields=["offer", "criterion", "evaluator"], name="score_unique_evaluator")
        ]

    def __str__(self) -> str:
        return f"{self.offer_id} / {self.criterion_id}: {self.value}"


class Outcome(models.TextChoices):
    AWARDED = "awarded", _("Attribué")
    UNSUCCESSFUL = "unsuccessful", _("Infructueux")
    ABANDONED = "abandoned", _("Sans suite")


class Award(models.Model):
    evaluation = models.OneToOneField(Evaluation, on_delete=models.CASCADE, related_name="award")
    outcome = models.CharField(_("issue"), max_length=16, choices=Outcome.choices)
    winner = models.ForeignKey(Offer, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    winner_total = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    reason = models.TextField(_("motif"), blank=True)
    # Set when the winner is not the best-ranked offer.
    choice_reason = models.TextField(_("motif du choix d'une offre autre que la mieux classée"), blank=True)
    meeting_decision = models.ForeignKey(
        "meetings.Decision", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField()
    letters_sent_at = models.DateTimeField(null=True, blank=True)
    standstill_ends_at = models.DateTimeField(_("signature possible à partir du"), null=True, blank=True)

    objects = ScopedManager(organisation="evaluation__consultation__organisation")

    class Meta:
        verbose_name = _("décision d'attribution")
        verbose_name_plural = _("décisions d'attribution")
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome="awarded") | Q(winner__isnull=False), name="award_awarded_has_winner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.evaluation_id}: {self.outcome}"


class DocumentRequest(models.Model):
    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="document_requests")
    company = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    items = models.JSONField(_("pièces demandées"), default=list)
    deadline = models.DateTimeField(_("date limite"))
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")

    objects = ScopedManager(organisation="company")

    class Meta:
        verbose_name = _("demande de pièces justificatives")
        verbose_name_plural = _("demandes de pièces justificatives")
        ordering = ["-requested_at", "-id"]

    def __str__(self) -> str:
        return f"{self.award_id} → {self.company_id}"


class LetterKind(models.TextChoices):
    AWARD = "award", _("Lettre d'attribution")
    REJECTION = "rejection", _("Lettre de rejet")
    UNSUCCESSFUL = "unsuccessful", _("Déclaration d'infructuosité")
    ABANDONED = "abandoned", _("Déclaration sans suite")
    # Sent by the contracts app (the same proof of sending and reading).
    CONTRACT = "contract", _("Notification du marché")
    MODIFICATION = "modification", _("Notification d'une modification du marché")
    ORDER = "order", _("Bon de commande")
    SUBCONTRACT = "subcontract", _("Décision sur un acte de sous-traitance")


class Letter(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="letters")
    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.PROTECT, related_name="+")
    company = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="letters")
    bid = models.ForeignKey("tenders.Bid", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(_("nature"), max_length=16, choices=LetterKind.choices)
    subject = models.CharField(_("objet"), max_length=300)
    summary = models.TextField(_("résumé"), blank=True)  # the reasons, as shown on the company's page
    storage_name = models.CharField(max_length=500)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    standstill_ends_at = models.DateTimeField(null=True, blank=True)
    first_read_at = models.DateTimeField(_("première lecture"), null=True, blank=True)
    first_read_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    # Scoped by the recipient company: a company's letters page reads them in its own scope.
    objects = ScopedManager(organisation="company")

    class Meta:
        verbose_name = _("courrier")
        verbose_name_plural = _("courriers")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["company", "-created_at"], name="letter_company_recent")]

    def __str__(self) -> str:
        return self.subject


class LetterEventKind(models.TextChoices):
    SENT = "sent", _("Envoi")
    READ = "read", _("Lecture")


class LetterEvent(models.Model):
    letter = models.ForeignKey(Letter, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=8, choices=LetterEventKind.choices)
    at = models.DateTimeField()
    detail = models.JSONField(default=dict)
    digest = models.CharField(max_length=64)
    timestamp_token = models.BinaryField(null=True, blank=True)
    timestamped_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="letter__company")

    class Meta:
        verbose_name = _("trace de courrier")
        verbose_name_plural = _("traces de courriers")
        ordering = ["letter", "at", "id"]

    def __str__(self) -> str:
        return f"{self.letter_id}: {self.kind} {self.at:%Y-%m-%d %H:%M}"
