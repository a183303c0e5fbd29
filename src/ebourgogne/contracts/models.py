"""Contracts: from an award decision to a signed, notified, executed and published contract.

The data, read by the buyer's and the holder's contract pages, the DECP and OCDS exports and the
indicators (keep it plain):

- `Contract`: one per awarded `awards.Award` (a consultation without lots, or one lot). The buyer
  (`organisation`) and the holder (`holder`, a company) are organisations; `number` is the buyer's own
  contract identifier (the DECP `id`: 1–16 characters, unique per buyer). The DECP fields that the award
  does not give (price form, CCAG, techniques, execution modes, considerations, advance) are set by
  the buyer while the contract is prepared. States: preparing → signed (both parties signed the
  acte d'engagement) → notified (the holder received it: the execution and the DECP clock start)
  → ended (execution over) or terminated (résilié).
- `ContractDocument`: a PDF of the contract's file (the acte d'engagement, a modification, an order
  form, a subcontracting act, any other piece), stored once; each PAdES signature (buyer, holder)
  replaces the stored bytes by the incrementally signed ones (the earlier revisions stay inside the
  PDF). `retain_until` is the end of its retention period (R2184-12/13); the purge job deletes the
  file once that date has passed and keeps the row with `purged_at`.
- `Modification` (avenant / modification de marché): a change of amount and/or duration, effective on a
  date that is never before the contract's notification nor before the previous modification; signed
  and notified like the contract; appended to the DECP.
- `OrderForm` (bon de commande): an order under a framework agreement (`Contract.is_framework`).
- `Subcontract` (acte spécial de sous-traitance) and `SubcontractChange`: a subcontractor declared by the
  holder, accepted (or refused) by the buyer with its payment terms; changes are appended.
- `Milestone`: an execution milestone (planned date, done date).
- `DecpRecord`: the essential data as published, append-only: one record for the initial data, one per
  modification, subcontracting act and subcontracting change; each keeps the exact JSON object that
  was published, so that a later export repeats it and never rewrites it.

Notifications to the holder go through `awards.Letter` (kinds contract, modification, order,
subcontract): the same proof of sending and of reading, timestamped, on the company's letters page.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

# DECP: contracts from this amount (€ HT) have their essential data published.
DECP_THRESHOLD = 40_000


class ContractState(models.TextChoices):
    PREPARING = "preparing", _("En préparation")
    SIGNED = "signed", _("Signé")
    NOTIFIED = "notified", _("Notifié, en exécution")
    ENDED = "ended", _("Exécution terminée")
    TERMINATED = "terminated", _("Résilié")


class PriceForm(models.TextChoices):
    UNIT = "Unitaire", _("Prix unitaires")
    LUMP_SUM = "Forfaitaire", _("Prix forfaitaire")
    MIXED = "Mixte", _("Prix mixtes")


class Ccag(models.TextChoices):
    WORKS = "Travaux", _("CCAG Travaux")
    PROJECT_MANAGEMENT = "Maitrise d'œuvre", _("CCAG Maîtrise d'œuvre")
    SUPPLIES_SERVICES = "Fournitures courantes et services", _("CCAG Fournitures courantes et services")
    INDUSTRIAL = "Marchés industriels", _("CCAG Marchés industriels")
    INTELLECTUAL = "Prestations intellectuelles", _("CCAG Prestations intellectuelles")
    IT = "Techniques de l'information et de la communication", _("CCAG Techniques de l'information")
    NONE = "Pas de CCAG", _("Pas de CCAG")


class Grouping(models.TextChoices):
    NONE = "Pas de groupement", _("Pas de groupement")
    JOINT = "Conjoint", _("Groupement conjoint")
    SEVERAL = "Solidaire", _("Groupement solidaire")


class Contract(models.Model):
    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="contracts")
    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.PROTECT, related_name="contracts")
    lot = models.ForeignKey("consultations.Lot", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    award = models.OneToOneField("awards.Award", on_delete=models.PROTECT, related_name="contract")
    holder = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="held_contracts")
    bid = models.ForeignKey("tenders.Bid", on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    number = models.CharField(_("numéro du marché"), max_length=16)
    title = models.CharField(_("intitulé"), max_length=255)
    object = models.TextField(_("objet"), max_length=1000)
    contract_type = models.CharField(_("type de marché"), max_length=16)  # consultations.ContractType
    procedure = models.CharField(_("procédure"), max_length=32)  # consultations.Procedure
    cpv_code = models.CharField(_("code CPV principal"), max_length=8)
    place_code = models.CharField(_("code du lieu d'exécution"), max_length=5, blank=True)
    place_code_type = models.CharField(_("type de code du lieu"), max_length=20, blank=True)  # DECP typeCode

    amount = models.DecimalField(_("montant (€ HT, forfaitaire ou maximum)"), max_digits=15, decimal_places=2)
    duration_months = models.PositiveIntegerField(_("durée initiale (mois)"))
    is_framework = models.BooleanField(_("accord-cadre à bons de commande"), default=False)
    price_form = models.CharField(
        _("forme du prix"), max_length=16, choices=PriceForm.choices, default=PriceForm.LUMP_SUM
    )
    price_types = models.JSONField(_("types de prix"), default=list)  # DECP typePrix values
    ccag = models.CharField(_("CCAG de référence"), max_length=60, choices=Ccag.choices, default=Ccag.NONE)
    techniques = models.JSONField(_("techniques d'achat"), default=list)  # DECP technique values
    execution_modes = models.JSONField(_("modalités d'exécution"), default=list)  # DECP modaliteExecution
    social_considerations = models.JSONField(_("considérations sociales"), default=list)
    environmental_considerations = models.JSONField(_("considérations environnementales"), default=list)
    innovative = models.BooleanField(_("marché innovant"), default=False)
    grouping = models.CharField(
        _("groupement d'opérateurs"), max_length=20, choices=Grouping.choices, default=Grouping.NONE
    )
    has_advance = models.BooleanField(_("avance versée au titulaire"), default=False)
    advance_rate = models.DecimalField(_("taux de l'avance"), max_digits=5, decimal_places=4, default=0)
    subcontracting_declared = models.BooleanField(_("sous-traitance déclarée à la notification"), default=False)
    bids_received = models.PositiveIntegerField(_("nombre d'offres reçues"), default=1)

    state = models.CharField(_("état"), max_length=16, choices=ContractState.choices, default=ContractState.PREPARING)
    created_at = models.DateTimeField(_("préparé le"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    signed_at = models.DateTimeField(_("signé le"), null=True, blank=True)  # when the second party signed
    notified_at = models.DateTimeField(_("notifié le"), null=True, blank=True)
    notification_letter = models.ForeignKey(
        "awards.Letter", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    starts_on = models.DateField(_("début d'exécution"), null=True, blank=True)
    ends_on = models.DateField(_("fin d'exécution prévue"), null=True, blank=True)
    ended_at = models.DateTimeField(_("exécution terminée le"), null=True, blank=True)
    end_reason = models.TextField(_("motif de la fin (résiliation)"), blank=True)
    decp_published_at = models.DateTimeField(_("données essentielles publiées le"), null=True, blank=True)

    objects = ScopedManager(organisation="organisation")

    class Meta:
        verbose_name = _("marché")
        verbose_name_plural = _("marchés")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "number"], name="contract_unique_number"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="contract_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["holder", "-created_at"], name="contract_holder_recent"),
            models.Index(fields=["state", "notified_at"], name="contract_state_notified"),
        ]

    def __str__(self) -> str:
        return f"{self.number} — {self.title}"

    @property
    def is_works(self) -> bool:
        return self.contract_type == "works"

    @property
    def decp_required(self) -> bool:
        return self.amount >= DECP_THRESHOLD


class DocumentKind(models.TextChoices):
    CONTRACT = "contract", _("Acte d'engagement")
    MODIFICATION = "modification", _("Modification (avenant)")
    ORDER = "order", _("Bon de commande")
    SUBCONTRACT = "subcontract", _("Acte spécial de sous-traitance")
    OTHER = "other", _("Autre pièce")


class ContractDocument(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("nature"), max_length=16, choices=DocumentKind.choices)
    title = models.CharField(_("intitulé"), max_length=255)
    filename = models.CharField(_("nom du fichier"), max_length=255)
    storage_name = models.CharField(max_length=500, blank=True)  # emptied by the purge
    original_sha256 = models.CharField(_("empreinte SHA-256 du document non signé"), max_length=64)
    sha256 = models.CharField(_("empreinte SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    buyer_signed_at = models.DateTimeField(null=True, blank=True)
    buyer_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    holder_signed_at = models.DateTimeField(null=True, blank=True)
    holder_signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The last verification of the signatures the file carries (signatures.verify report, as JSON).
    verification = models.JSONField(default=dict, blank=True)
    letter = models.ForeignKey("awards.Letter", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)
    retain_until = models.DateField(_("à conserver jusqu'au"), null=True, blank=True)  # None: while running
    purged_at = models.DateTimeField(_("supprimé le"), null=True, blank=True)

    objects = ScopedManager(organisation="contract__organisation")

    class Meta:
        verbose_name = _("pièce du marché")
        verbose_name_plural = _("pièces du marché")
        ordering = ["contract", "created_at", "id"]
        indexes = [models.Index(fields=["retain_until"], name="contractdoc_retain_until")]

    def __str__(self) -> str:
        return self.title


class ChangeState(models.TextChoices):
    DRAFT = "draft", _("En préparation")
    SIGNED = "signed", _("Signé")
    NOTIFIED = "notified", _("Notifié")


class LegalGround(models.TextChoices):
    """The ground of a modification in the Code de la commande publique (R2194-1 to R2194-9)."""

    REVIEW_CLAUSE = "R2194-1", _("Clause de réexamen prévue au marché (R2194-1)")
    ADDITIONAL_WORK = "R2194-2", _("Prestations supplémentaires nécessaires (R2194-2)")
    UNFORESEEN = "R2194-5", _("Circonstances imprévues (R2194-5)")
    NEW_HOLDER = "R2194-6", _("Nouveau titulaire (R2194-6)")
    NON_SUBSTANTIAL = "R2194-7", _("Modification non substantielle (R2194-7)")
    DE_MINIMIS = "R2194-8", _("Modification de faible montant (R2194-8)")


class Modification(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="modifications")
    number = models.PositiveSmallIntegerField(_("numéro"))
    legal_ground = models.CharField(_("fondement juridique"), max_length=10, choices=LegalGround.choices)
    object = models.TextField(_("objet de la modification"), max_length=1000)
    amount_change = models.DecimalField(_("variation du montant (€ HT)"), max_digits=15, decimal_places=2, default=0)
    duration_change_months = models.IntegerField(_("variation de la durée (mois)"), default=0)
    effective_on = models.DateField(_("prend effet le"))
    # A new holder (R2194-6: cession, merger...): who holds the contract after the modification, published in
    # the DECP `modification.titulaires`. Empty: the holder does not change.
    new_holder_name = models.CharField(_("nouveau titulaire (raison sociale)"), max_length=255, blank=True)
    new_holder_siret = models.CharField(_("SIRET du nouveau titulaire"), max_length=14, blank=True)
    state = models.CharField(_("état"), max_length=16, choices=ChangeState.choices, default=ChangeState.DRAFT)
    document = models.ForeignKey(ContractDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)
    decp_published_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="contract__organisation")

    class Meta:
        verbose_name = _("modification du marché")
        verbose_name_plural = _("modifications du marché")
        ordering = ["contract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="modification_unique_number"),
            models.CheckConstraint(
                condition=Q(new_holder_siret="") | Q(new_holder_siret__regex=r"^[0-9]{14}$"),
                name="modification_new_holder_siret",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contract_id} / {self.number}"

    @property
    def changes_holder(self) -> bool:
        return bool(self.new_holder_siret)


class OrderForm(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="orders")
    number = models.PositiveIntegerField(_("numéro"))
    object = models.TextField(_("objet"), max_length=1000)
    amount = models.DecimalField(_("montant (€ HT)"), max_digits=15, decimal_places=2)
    issued_on = models.DateField(_("émis le"))
    delivery_on = models.DateField(_("livraison ou exécution attendue le"), null=True, blank=True)
    state = models.CharField(_("état"), max_length=16, choices=ChangeState.choices, default=ChangeState.DRAFT)
    document = models.ForeignKey(ContractDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="contract__organisation")

    class Meta:
        verbose_name = _("bon de commande")
        verbose_name_plural = _("bons de commande")
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="order_unique_number")]

    def __str__(self) -> str:
        return f"{self.contract_id} / BC {self.number}"


class SubcontractState(models.TextChoices):
    DECLARED = "declared", _("Déclaré, en attente d'acceptation")
    ACCEPTED = "accepted", _("Accepté")
    REFUSED = "refused", _("Refusé")


class PriceVariation(models.TextChoices):
    FIRM = "Ferme", _("Prix ferme")
    ADJUSTABLE = "Actualisable", _("Prix actualisable")
    REVISABLE = "Révisable", _("Prix révisable")


class Subcontract(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="subcontracts")
    number = models.PositiveSmallIntegerField(_("numéro"))
    subcontractor_name = models.CharField(_("sous-traitant"), max_length=255)
    subcontractor_siret = models.CharField(_("SIRET du sous-traitant"), max_length=14)
    object = models.TextField(_("nature des prestations sous-traitées"), max_length=1000)
    amount = models.DecimalField(_("montant maximum (€ HT)"), max_digits=15, decimal_places=2)
    duration_months = models.PositiveIntegerField(_("durée (mois)"))
    direct_payment = models.BooleanField(_("paiement direct"), default=True)
    price_variation = models.CharField(
        _("variation des prix"), max_length=16, choices=PriceVariation.choices, default=PriceVariation.FIRM
    )
    state = models.CharField(
        _("état"), max_length=16, choices=SubcontractState.choices, default=SubcontractState.DECLARED
    )
    decision_reason = models.TextField(_("motif de la décision"), blank=True)
    declared_at = models.DateTimeField()
    declared_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    document = models.ForeignKey(ContractDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)
    decp_published_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="contract__organisation")

    class Meta:
        verbose_name = _("acte spécial de sous-traitance")
        verbose_name_plural = _("actes spéciaux de sous-traitance")
        ordering = ["contract", "number"]
        constraints = [models.UniqueConstraint(fields=["contract", "number"], name="subcontract_unique_number")]

    def __str__(self) -> str:
        return f"{self.contract_id} / ST {self.number} {self.subcontractor_name}"


class SubcontractChange(models.Model):
    subcontract = models.ForeignKey(Subcontract, on_delete=models.PROTECT, related_name="changes")
    number = models.PositiveSmallIntegerField(_("numéro"))
    object = models.TextField(_("objet de la modification"), max_length=1000, blank=True)
    new_amount = models.DecimalField(_("nouveau montant (€ HT)"), max_digits=15, decimal_places=2)
    new_duration_months = models.PositiveIntegerField(_("nouvelle durée (mois)"))
    effective_on = models.DateField(_("prend effet le"))
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    document = models.ForeignKey(ContractDocument, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    notified_at = models.DateTimeField(null=True, blank=True)
    decp_published_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="subcontract__contract__organisation")

    class Meta:
        verbose_name = _("modification d'un acte de sous-traitance")
        verbose_name_plural = _("modifications d'actes de sous-traitance")
        ordering = ["subcontract", "number"]
        constraints = [
            models.UniqueConstraint(fields=["subcontract", "number"], name="subcontractchange_unique_number")
        ]

    def __str__(self) -> str:
        return f"{self.subcontract_id} / {self.number}"


class Milestone(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(_("jalon"), max_length=255)
    due_on = models.DateField(_("prévu le"))
    done_on = models.DateField(_("réalisé le"), null=True, blank=True)
    note = models.TextField(_("observations"), blank=True)
    created_at = models.DateTimeField()

    objects = ScopedManager(organisation="contract__organisation")

    class Meta:
        verbose_name = _("jalon d'exécution")
        verbose_name_plural = _("jalons d'exécution")
        ordering = ["contract", "due_on", "id"]

    def __str__(self) -> str:
        return self.title


class DecpKind(models.TextChoices):
    INITIAL = "initial", _("Données initiales")
    MODIFICATION = "modification", _("Modification du marché")
    SUBCONTRACT = "subcontract", _("Acte de sous-traitance")
    SUBCONTRACT_CHANGE = "subcontract_change", _("Modification d'un acte de sous-traitance")


class DecpRecord(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="decp_records")
    kind = models.CharField(max_length=20, choices=DecpKind.choices)
    # The pk of the Modification / Subcontract / SubcontractChange it publishes (None for the initial data).
    source_id = models.PositiveBigIntegerField(null=True, blank=True)
    payload = models.JSONField()  # the exact object as published, never rewritten
    published_at = models.DateTimeField()

    objects = ScopedManager(organisation="contract__organisation")

    class Meta:
        verbose_name = _("publication de données essentielles")
        verbose_name_plural = _("publications de données essentielles")
        ordering = ["contract", "published_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind", "source_id"], name="decp_record_unique_source"),
            models.UniqueConstraint(
                fields=["contract"], condition=Q(kind="initial"), name="decp_record_unique_initial"
            ),
        ]
        indexes = [models.Index(fields=["published_at"], name="decp_record_published")]

    def __str__(self) -> str:
        return f"{self.contract_id}: {self.kind} {self.published_at:%Y-%m-%d}"


class DecpDailyFile(models.Model):
    """The daily bulk file of the essential data published that day (JSON and XML), built once."""

    day = models.DateField(unique=True)
    json_storage_name = models.CharField(max_length=500)
    xml_storage_name = models.CharField(max_length=500)
    json_sha256 = models.CharField(max_length=64)
    xml_sha256 = models.CharField(max_length=64)
    json_size = models.PositiveBigIntegerField(null=True, blank=True)  # bytes (None: built before sizes were kept)
    xml_size = models.PositiveBigIntegerField(null=True, blank=True)
    records = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField()

    class Meta:
        verbose_name = _("fichier quotidien des données essentielles")
        verbose_name_plural = _("fichiers quotidiens des données essentielles")
        ordering = ["-day"]

    def __str__(self) -> str:
        return f"DECP {self.day}"
