"""A commission's meetings (séances): convocations and their evidence, the session (attendance, quorum,
opening of bids, decisions) and its minutes (procès-verbal) signed electronically.

The shape of the data, in the order a meeting lives:

- `Meeting`: date, place and/or video link, state (draft → convened → in session → closed, or cancelled),
  its iCalendar identity (`uid`, `sequence`: every change sent raises the sequence), the convocation delay
  check (urgency reason when convened late), the link to the meeting it follows when the first one had no
  quorum (`follows`: that one sits without quorum).
- `AgendaItem` (opening of bids, analysis report, choice of the winner, other), each maybe about one
  consultation of the same buyer; `MeetingDocument` for members only.
- `Convocation`: one per convened member (substitutes are convened when a titular is represented), with
  the member's answer; `ConvocationEvent`: every send, delivery attempt, opening of the link,
  acknowledgement and answer, with its time and an RFC 3161 token over the event's digest.
- `Attendance` at the session; `Decision` per agenda item (with votes where needed).
- `Minutes` and `MinutesSignature`: the PDF generated from the session record, then signed (PAdES) by
  the president and the members who must sign, in order; the signed PDF is immutable, its hash audited.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


def new_uid() -> str:
    """The iCalendar UID of a meeting (RFC 5545 §3.8.4.7): stable for the meeting's whole life."""
    return f"{uuid.uuid4()}@e-bourgogne"


class MeetingState(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    CONVENED = "convened", _("Convoquée")
    IN_SESSION = "in_session", _("En séance")
    CLOSED = "closed", _("Close")
    CANCELLED = "cancelled", _("Annulée")


class Meeting(models.Model):
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="meetings", verbose_name=_("acheteur")
    )
    commission = models.ForeignKey(
        "commissions.Commission", on_delete=models.PROTECT, related_name="meetings", verbose_name=_("commission")
    )
    title = models.CharField(_("intitulé"), max_length=200)
    starts_at = models.DateTimeField(_("date et heure"))
    ends_at = models.DateTimeField(_("fin prévue"), null=True, blank=True)
    place = models.CharField(_("lieu"), max_length=300, blank=True)
    video_url = models.URLField(_("lien de visioconférence"), max_length=500, blank=True)
    state = models.CharField(_("état"), max_length=16, choices=MeetingState.choices, default=MeetingState.DRAFT)
    # iCalendar identity: the same UID for the meeting's whole life; SEQUENCE raised by every change sent.
    uid = models.CharField(max_length=120, unique=True, default=new_uid, editable=False)
    sequence = models.PositiveIntegerField(default=0)
    # Convocation: when it was sent, and whether it was sent inside the legal delay (then with a reason).
    convened_at = models.DateTimeField(_("convoquée le"), null=True, blank=True)
    is_urgent = models.BooleanField(_("convocation en urgence (délai non respecté)"), default=False)
    urgency_reason = models.TextField(_("motif de l'urgence"), blank=True)
    # A meeting convened again because the first had no quorum: it sits without quorum (the rules).
    follows = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="followed_by",
        verbose_name=_("nouvelle convocation après la séance sans quorum"),
    )
    # The session.
    session_opened_at = models.DateTimeField(_("séance ouverte le"), null=True, blank=True)
    session_closed_at = models.DateTimeField(_("séance close le"), null=True, blank=True)
    quorum_reached = models.BooleanField(_("quorum atteint"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("annulée le"), null=True, blank=True)
    cancel_reason = models.TextField(_("motif de l'annulation"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("séance")
        verbose_name_plural = _("séances")
        ordering = ["-starts_at", "-id"]
        indexes = [models.Index(fields=["commission", "-starts_at"], name="meeting_commission_date")]

    def __str__(self) -> str:
        return self.title


class AgendaItemKind(models.TextChoices):
    OPENING = "opening", _("Ouverture des plis")
    ANALYSIS = "analysis", _("Examen du rapport d'analyse des offres")
    AWARD = "award", _("Choix de l'attributaire")
    OTHER = "other", _("Autre point")


class AgendaItem(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("rang"), default=1)
    kind = models.CharField(_("nature"), max_length=16, choices=AgendaItemKind.choices, default=AgendaItemKind.OTHER)
    title = models.CharField(_("intitulé"), max_length=300)
    # A consultation of the same buyer (checked by the services).
    consultation = models.ForeignKey(
        "consultations.Consultation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agenda_items",
        verbose_name=_("consultation"),
    )
    description = models.TextField(_("précisions"), blank=True)
    # The opening of bids done inside the session for this item.
    opening = models.ForeignKey(
        "tenders.Opening", on_delete=models.SET_NULL, null=True, blank=True, related_name="agenda_items"
    )

    class Meta:
        verbose_name = _("point de l'ordre du jour")
        verbose_name_plural = _("ordre du jour")
        ordering = ["meeting", "position", "id"]

    def __str__(self) -> str:
        return self.title


class MeetingDocument(models.Model):
    """A document for the members (analysis report, note...): visible only to the members of the meeting's
    commission and the buyer's staff who run it."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="documents")
    agenda_item = models.ForeignKey(
        AgendaItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="documents"
    )
    title = models.CharField(_("titre"), max_length=300)
    original_name = models.CharField(_("nom du fichier"), max_length=255)
    storage_name = models.CharField(max_length=500)
    content_type = models.CharField(max_length=120, blank=True)
    size = models.BigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField()
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("document de séance")
        verbose_name_plural = _("documents de séance")
        ordering = ["meeting", "uploaded_at", "id"]

    def __str__(self) -> str:
        return self.title


class Response(models.TextChoices):
    PENDING = "pending", _("Pas encore de réponse")
    PRESENT = "present", _("Présent")
    REMOTE = "remote", _("Présent à distance")
    ABSENT = "absent", _("Absent")
    REPRESENTED = "represented", _("Représenté par son suppléant")


class Convocation(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="convocations")
    member = models.ForeignKey(
        "commissions.CommissionMember", on_delete=models.SET_NULL, null=True, related_name="convocations"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="convocations")
    # The member's voice and seat when convened (the membership may change later).
    voice = models.CharField(max_length=16)
    seat = models.CharField(max_length=16)
    # A substitute convened because the titular answered "represented".
    replaces = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaced_by")
    language = models.CharField(max_length=8, default="fr")
    sent_sequence = models.PositiveIntegerField(null=True, blank=True)  # the meeting's SEQUENCE last sent
    sent_at = models.DateTimeField(_("envoyée le"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("remise le"), null=True, blank=True)
    opened_at = models.DateTimeField(_("ouverte le"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("accusé de réception le"), null=True, blank=True)
    response = models.CharField(_("réponse"), max_length=16, choices=Response.choices, default=Response.PENDING)
    responded_at = models.DateTimeField(_("répondu le"), null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)  # the member no longer convened (left, replaced)

    class Meta:
        verbose_name = _("convocation")
        verbose_name_plural = _("convocations")
        ordering = ["meeting", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="convocation_once_per_member")]

    def __str__(self) -> str:
        return f"{self.meeting_id} → {self.user_id}"


class ConvocationEventKind(models.TextChoices):
    SENT = "sent", _("Convocation envoyée")
    UPDATE_SENT = "update_sent", _("Modification envoyée")
    CANCEL_SENT = "cancel_sent", _("Annulation envoyée")
    DELIVERY_ATTEMPT = "delivery_attempt", _("Tentative de remise")
    DELIVERED = "delivered", _("Remise au serveur de messagerie")
    DELIVERY_FAILED = "delivery_failed", _("Échec de remise")
    OPENED = "opened", _("Lien ouvert")
    ACKNOWLEDGED = "acknowledged", _("Accusé de réception")
    ANSWERED = "answered", _("Réponse du membre")


class ConvocationEvent(models.Model):
    """One piece of evidence: what happened to a convocation, when, with an RFC 3161 token over `digest`
    (the SHA-256 of the event's canonical JSON), from the same authority as the bid receipts."""

    convocation = models.ForeignKey(Convocation, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=ConvocationEventKind.choices)
    at = models.DateTimeField()
    detail = models.JSONField(default=dict, blank=True)
    digest = models.CharField(max_length=64)
    timestamp_token = models.BinaryField(null=True, blank=True)
    timestamped_at = models.DateTimeField(null=True, blank=True)  # genTime of the token

    class Meta:
        verbose_name = _("trace de convocation")
        verbose_name_plural = _("traces de convocation")
        ordering = ["convocation", "at", "id"]
        indexes = [
            models.Index(fields=["id"], name="convocation_event_unstamped", condition=Q(timestamp_token__isnull=True))
        ]

    def __str__(self) -> str:
        return f"{self.convocation_id} {self.kind} {self.at:%Y-%m-%d %H:%M:%S}"


class AttendanceStatus(models.TextChoices):
    PRESENT = "present", _("Présent")
    REMOTE = "remote", _("Présent à distance")
    ABSENT = "absent", _("Absent")
    REPRESENTED = "represented", _("Représenté par son suppléant")
    LEFT = "left", _("Parti en cours de séance")


class Attendance(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendances")
    member = models.ForeignKey(
        "commissions.CommissionMember", on_delete=models.SET_NULL, null=True, related_name="attendances"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="attendances")
    voice = models.CharField(max_length=16)
    seat = models.CharField(max_length=16)
    status = models.CharField(_("présence"), max_length=16, choices=AttendanceStatus.choices)
    # The substitute sitting for this titular (status "represented").
    represented_by = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="representing"
    )
    arrived_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("présence")
        verbose_name_plural = _("présences")
        ordering = ["meeting", "id"]
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="attendance_once_per_member")]

    def __str__(self) -> str:
        return f"{self.meeting_id}: {self.user_id} {self.status}"


class DecisionKind(models.TextChoices):
    ADMITTED = "admitted", _("Candidatures admises")
    REJECTED = "rejected", _("Candidatures ou offres écartées")
    RANKING = "ranking", _("Classement des offres")
    WINNER = "winner", _("Attributaire proposé")
    OTHER = "other", _("Autre décision")


class Decision(models.Model):
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="decisions")
    kind = models.CharField(_("nature"), max_length=16, choices=DecisionKind.choices, default=DecisionKind.OTHER)
    text = models.TextField(_("décision"))
    # Companies concerned, in order for a ranking: [{"name": ..., "siret": ..., "bid": id, "reason": ...}].
    data = models.JSONField(default=dict, blank=True)
    vote_held = models.BooleanField(_("vote"), default=False)
    votes_for = models.PositiveSmallIntegerField(_("pour"), null=True, blank=True)
    votes_against = models.PositiveSmallIntegerField(_("contre"), null=True, blank=True)
    abstentions = models.PositiveSmallIntegerField(_("abstentions"), null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        verbose_name = _("décision")
        verbose_name_plural = _("décisions")
        ordering = ["agenda_item", "recorded_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class MinutesState(models.TextChoices):
    SIGNING = "signing", _("En cours de signature")
    SIGNED = "signed", _("Signé")


class Minutes(models.Model):
    """The minutes (procès-verbal) of a closed session: the PDF generated from the record, signed in turn.
    `storage_name` always names the current PDF (with the signatures so far); once signed it never
    changes and its SHA-256 is in the audit trail."""

    meeting = models.OneToOneField(Meeting, on_delete=models.PROTECT, related_name="minutes")
    state = models.CharField(max_length=16, choices=MinutesState.choices, default=MinutesState.SIGNING)
    generated_at = models.DateTimeField()
    generated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    unsigned_sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("procès-verbal")
        verbose_name_plural = _("procès-verbaux")

    def __str__(self) -> str:
        return f"PV {self.meeting_id}"


class SignerRole(models.TextChoices):
    PRESIDENT = "president", _("Président")
    MEMBER = "member", _("Membre")


class MinutesSignature(models.Model):
    """One expected signature, in `order`; filled when the signer signs (the certificate's details are
    copied, so that the record stays whatever happens to the certificate later)."""

    minutes = models.ForeignKey(Minutes, on_delete=models.CASCADE, related_name="signatures")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=16, choices=SignerRole.choices, default=SignerRole.MEMBER)
    signed_at = models.DateTimeField(null=True, blank=True)
    field_name = models.CharField(max_length=64, blank=True)
    certificate_subject = models.CharField(max_length=500, blank=True)
    certificate_fingerprint = models.CharField(max_length=64, blank=True)
    sha256_after = models.CharField(max_length=64, blank=True)  # the PDF's hash once this signature is in

    class Meta:
        verbose_name = _("signature du procès-verbal")
        verbose_name_plural = _("signatures du procès-verbal")
        ordering = ["minutes", "order"]
        constraints = [
            models.UniqueConstraint(fields=["minutes", "user"], name="minutes_signer_once"),
            models.UniqueConstraint(fields=["minutes", "order"], name="minutes_signer_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.minutes_id} #{self.order} {self.user_id}"
