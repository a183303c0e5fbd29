"""Consultations: what a buyer puts out to tender, its lots, its CPV codes and its dates.

A consultation belongs to one buyer organisation (the tenant). Drafts are visible to that buyer only;
from publication on, the consultation is public (portal, API, open data) but it still changes only
through `consultations.services`. Dates are stored in UTC and shown in Europe/Paris.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

DEFAULT_DCE_SIZE_LIMIT = 2 * 1024**3  # 2 GB per consultation, announced on the page
DEFAULT_BID_SIZE_LIMIT = 5 * 1024**3  # 5 GB per bid (all its files, encrypted), announced on the page


class ContractType(models.TextChoices):
    WORKS = "works", _("Travaux")
    SUPPLIES = "supplies", _("Fournitures")
    SERVICES = "services", _("Services")


class Procedure(models.TextChoices):
    MAPA = "mapa", _("Procédure adaptée (MAPA)")
    OPEN = "open", _("Appel d'offres ouvert")
    RESTRICTED = "restricted", _("Appel d'offres restreint")
    NEGOTIATED = "negotiated", _("Procédure avec négociation")
    COMPETITIVE_DIALOGUE = "competitive_dialogue", _("Dialogue compétitif")
    NEGOTIATED_WITHOUT_NOTICE = "negotiated_without_notice", _("Marché négocié sans publicité")
    DESIGN_CONTEST = "design_contest", _("Concours")


# Procedures of the formalised regime: the R2132-6 delay for answers applies to them.
FORMALISED_PROCEDURES = frozenset(
    {
        Procedure.OPEN,
        Procedure.RESTRICTED,
        Procedure.NEGOTIATED,
        Procedure.COMPETITIVE_DIALOGUE,
        Procedure.DESIGN_CONTEST,
    }
)


class State(models.TextChoices):
    DRAFT = "draft", _("Brouillon")
    PUBLISHED = "published", _("En cours")
    CLOSED = "closed", _("Clôturée")
    OPENED = "opened", _("Plis ouverts")
    AWARDED = "awarded", _("Attribuée")
    UNSUCCESSFUL = "unsuccessful", _("Infructueuse")
    ABANDONED = "abandoned", _("Sans suite")
    CANCELLED = "cancelled", _("Annulée")


# States in which the consultation is public (portal, API, downloads).
PUBLIC_STATES = frozenset(
    {State.PUBLISHED, State.CLOSED, State.OPENED, State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED, State.CANCELLED}
)

# The state machine: every allowed transition. Services refuse anything else with a clear message.
TRANSITIONS: dict[str, frozenset[str]] = {
    State.DRAFT: frozenset({State.PUBLISHED}),
    State.PUBLISHED: frozenset({State.CLOSED, State.CANCELLED}),
    State.CLOSED: frozenset({State.OPENED, State.CANCELLED}),
    State.OPENED: frozenset({State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED}),
    State.AWARDED: frozenset(),
    State.UNSUCCESSFUL: frozenset(),
    State.ABANDONED: frozenset(),
    State.CANCELLED: frozenset(),
}


class CpvCode(models.Model):
    """One code of the Common Procurement Vocabulary (CPV 2008), with its French and English labels.

    `code` holds the 8 digits without the check digit; the hierarchy is read from the trailing zeros
    (division 45000000 > group 45200000 > class 45210000 > category 45211000 > 45211100...), so the
    subtree of a code is every code that starts with its `prefix`.
    """

    code = models.CharField(_("code"), max_length=8, primary_key=True)
    check_digit = models.CharField(_("chiffre de contrôle"), max_length=1)
    label_fr = models.CharField(_("libellé (français)"), max_length=400)
    label_en = models.CharField(_("libellé (anglais)"), max_length=400)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="children")
    level = models.PositiveSmallIntegerField(_("niveau"))  # 1 = division ... 5 = most detailed

    class Meta:
        ordering = ["code"]
        verbose_name = _("code CPV")
        verbose_name_plural = _("codes CPV")

    def __str__(self) -> str:
        return f"{self.full_code} {self.label}"

    @property
    def full_code(self) -> str:
        """The code as published: `45210000-2`."""
        return f"{self.code}-{self.check_digit}"

    @property
    def label(self) -> str:
        return self.label_en if (get_language() or "fr").startswith("en") else self.label_fr

    @property
    def prefix(self) -> str:
        return cpv_prefix(self.code)


def cpv_prefix(code: str) -> str:
    """The significant digits of a CPV code (at least the two of its division): its subtree's prefix."""
    digits = code.split("-")[0]
    stripped = digits.rstrip("0")
    return stripped if len(stripped) >= 2 else digits[:2]


class Consultation(models.Model):
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.PROTECT, related_name="consultations", verbose_name=_("acheteur")
    )
    service = models.ForeignKey(
        "organisations.BuyerService",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="consultations",
        verbose_name=_("service"),
    )
    reference = models.CharField(_("référence interne"), max_length=50)
    title = models.CharField(_("intitulé"), max_length=255)
    object = models.TextField(_("objet"), blank=True)
    contract_type = models.CharField(_("type de marché"), max_length=16, choices=ContractType.choices)
    procedure = models.CharField(_("procédure"), max_length=32, choices=Procedure.choices)
    main_cpv = models.ForeignKey(
        CpvCode, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("code CPV principal")
    )
    # Place of execution.
    department = models.CharField(_("département d'exécution"), max_length=3, blank=True)
    commune = models.CharField(_("commune d'exécution"), max_length=120, blank=True)
    insee_code = models.CharField(_("code INSEE de la commune"), max_length=5, blank=True)

    estimated_value = models.DecimalField(
        _("valeur estimée (€ HT)"), max_digits=15, decimal_places=2, null=True, blank=True
    )
    duration_months = models.PositiveIntegerField(_("durée (mois)"), null=True, blank=True)
    variants_allowed = models.BooleanField(_("variantes autorisées"), default=False)
    required_documents = models.TextField(_("pièces à fournir par les candidats"), blank=True)  # one per line
    urgency = models.BooleanField(_("urgence (délai de réponse aux questions réduit)"), default=False)

    contact_name = models.CharField(_("contact"), max_length=150, blank=True)
    contact_email = models.EmailField(_("adresse électronique du contact"), blank=True)
    contact_phone = models.CharField(_("téléphone du contact"), max_length=30, blank=True)

    # Dates (UTC). `published_at` is set at publication; the others are chosen by the buyer.
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)
    questions_deadline = models.DateTimeField(_("date limite des questions"), null=True, blank=True)
    bids_deadline = models.DateTimeField(_("date limite de remise des plis"), null=True, blank=True)
    planned_opening_at = models.DateTimeField(_("ouverture des plis prévue le"), null=True, blank=True)

    state = models.CharField(_("état"), max_length=16, choices=State.choices, default=State.DRAFT)
    closed_at = models.DateTimeField(_("clôturée le"), null=True, blank=True)
    opened_at = models.DateTimeField(_("plis ouverts le"), null=True, blank=True)
    ended_at = models.DateTimeField(_("issue prononcée le"), null=True, blank=True)  # awarded / unsuccessful / ...
    end_reason = models.TextField(_("motif de l'issue"), blank=True)  # reason of cancellation or outcome

    # The commission whose members hold the shares of the opening key (sealed-bid issue).
    commission = models.ForeignKey(
        "commissions.Commission",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="consultations",
        verbose_name=_("commission d'ouverture des plis"),
    )
    # The permanent practice consultation (training): never listed on the portal.
    is_practice = models.BooleanField(_("consultation d'entraînement"), default=False)
    bid_size_limit = models.BigIntegerField(_("taille maximale d'un pli (octets)"), default=DEFAULT_BID_SIZE_LIMIT)

    dce_size_limit = models.BigIntegerField(_("taille maximale du DCE (octets)"), default=DEFAULT_DCE_SIZE_LIMIT)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)
    updated_at = models.DateTimeField(_("modifiée le"), auto_now=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "reference"], name="consultation_reference_unique"),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(published_at__isnull=False, bids_deadline__isnull=False),
                name="consultation_published_has_dates",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "bids_deadline"], name="consultation_state_deadline"),
            models.Index(fields=["organisation", "state"], name="consultation_org_state"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    @property
    def is_public(self) -> bool:
        return self.state in PUBLIC_STATES

    @property
    def is_formalised(self) -> bool:
        return self.procedure in FORMALISED_PROCEDURES

    @property
    def deadline_passed(self) -> bool:
        """True from the bid deadline on (to the second), whatever the scheduler has done yet."""
        from ebourgogne.core import clock

        return self.bids_deadline is not None and clock.now() >= self.bids_deadline

    @property
    def effective_state(self) -> str:
        """The state as everyone sees it: a published consultation whose bid deadline has passed is
        closed, even in the seconds before the scheduler records it (see `services.close_due_consultations`)."""
        if self.state == State.PUBLISHED and self.deadline_passed:
            return State.CLOSED
        return self.state

    def get_effective_state_display(self) -> str:
        return str(State(self.effective_state).label)

    @property
    def accepts_bids(self) -> bool:
        return self.effective_state == State.PUBLISHED

    @property
    def accepts_questions(self) -> bool:
        """Questions are open while published and before the questions deadline."""
        from ebourgogne.core import clock

        return self.accepts_bids and (self.questions_deadline is None or clock.now() < self.questions_deadline)

    @property
    def last_answer_date(self):
        """The last moment answers can go out under R2132-6 (formalised procedures), or None."""
        from ebourgogne.consultations.services import last_answer_date

        return last_answer_date(self)


class Lot(models.Model):
    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="lots")
    number = models.PositiveSmallIntegerField(_("numéro"))
    title = models.CharField(_("intitulé"), max_length=255)
    description = models.TextField(_("description"), blank=True)
    estimated_value = models.DecimalField(
        _("valeur estimée (€ HT)"), max_digits=15, decimal_places=2, null=True, blank=True
    )

    objects = ScopedManager(organisation="consultation__organisation")

    class Meta:
        verbose_name = _("lot")
        verbose_name_plural = _("lots")
        ordering = ["consultation", "number"]
        constraints = [models.UniqueConstraint(fields=["consultation", "number"], name="lot_number_unique")]

    def __str__(self) -> str:
        return f"{self.number}. {self.title}"


class ConsultationCpv(models.Model):
    """A CPV code of a consultation (lot = None) or of one of its lots. The main code is also here
    (is_main=True) so that a search over codes reads one table."""

    consultation = models.ForeignKey(Consultation, on_delete=models.CASCADE, related_name="cpv_codes")
    lot = models.ForeignKey(Lot, on_delete=models.CASCADE, null=True, blank=True, related_name="cpv_codes")
    cpv = models.ForeignKey(CpvCode, on_delete=models.PROTECT, related_name="+")
    is_main = models.BooleanField(default=False)

    objects = ScopedManager(organisation="consultation__organisation")

    class Meta:
        verbose_name = _("code CPV de la consultation")
        verbose_name_plural = _("codes CPV de la consultation")
        constraints = [
            models.UniqueConstraint(fields=["consultation", "lot", "cpv"], name="consultation_cpv_unique"),
            models.UniqueConstraint(
                fields=["consultation", "cpv"],
                condition=Q(lot__isnull=True),
                name="consultation_cpv_unique_without_lot",
            ),
        ]
        indexes = [models.Index(fields=["cpv"], name="consultation_cpv_code")]

    def __str__(self) -> str:
        return self.cpv_id
