"""Every change of a contract, from the award decision to its notification: prepare, set the terms, sign,
notify, and the upload of a piece signed elsewhere.

Each function is one atomic step: it checks the caller's right (`contracts.manage` in the buyer for the
preparation, the terms and the notification; `contracts.sign` / `contracts.holder_sign` for the
signatures, see `contracts.documents`), checks the rules, writes, and records an audit event. A refusal
raises `DomainError` (`InvalidData` with field errors) with a translated message; nothing is stored.

The order of work (docs/guide/marches.md):

1. `contract_create` from an awarded `awards.Award`, once the standstill is over (`standstill_ends_at`),
   one contract per award: it copies the consultation's and the lot's data (title, object, type,
   procedure, main CPV, place of execution), the winner's price and the number of opened bids, and
   generates the acte d'engagement (contracts/pdf.py) as the CONTRACT document.
2. `contract_update_terms`: the DECP fields the award does not give (price form and types, CCAG,
   techniques, execution modes, considerations, advance, grouping...), while the contract is prepared.
   Changing them regenerates the acte d'engagement, as long as nobody signed it.
3. `contract_sign`: the buyer and the holder each sign the acte d'engagement (PAdES); when both have, the
   contract is "signed".
4. `contract_notify`: the signed acte d'engagement is notified to the holder (awards letter, proof of
   sending); the contract is "notified", its execution starts, and its essential data are published
   (`contracts.decp.publish_initial`).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.consultations.models import Consultation
from ebourgogne.contracts import decp, documents, pdf
from ebourgogne.contracts.models import (
    Ccag,
    Contract,
    ContractDocument,
    ContractState,
    DocumentKind,
    Grouping,
    PriceForm,
)
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound
from ebourgogne.organisations.services import InvalidData

MANAGE = documents.MANAGE
NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9._/-]{1,16}$")
MAX_DURATION_MONTHS = 1200


def _audit(action: str, *, actor: Any, contract: Contract, data: dict[str, Any], request: Any) -> None:
    log_event(
        action=action,
        actor=actor,
        organisation=contract.organisation,
        obj=contract,
        data={"contract": str(contract.uid), "number": contract.number, **data},
        request=request,
    )


def _lock(contract: Contract) -> Contract:
    with scopes_disabled():
        found = (
            Contract.objects.select_for_update(of=("self",))
            .select_related("organisation", "holder", "consultation", "lot", "award")
            .filter(pk=contract.pk)
            .first()
        )
    if found is None:
        raise NotFound(_("Marché introuvable."))
    return found


def contract_document(contract: Contract) -> ContractDocument | None:
    """The acte d'engagement (the first CONTRACT document of the contract)."""
    with scopes_disabled():
        return ContractDocument.objects.filter(contract=contract, kind=DocumentKind.CONTRACT).order_by("id").first()


def _place(consultation: Any, buyer: Any) -> tuple[str, str]:
    if consultation.insee_code:
        return consultation.insee_code, "Code commune"
    if consultation.department:
        return consultation.department, "Code département"
    if buyer.department:
        return buyer.department, "Code département"
    return "", ""


def _bids_received(consultation: Any, evaluation: Any) -> int:
    from ebourgogne.awards import selectors as award_selectors

    return max(
        1,
        sum(
            1 for bid in award_selectors.opened_bids(consultation) if award_selectors.bid_in_evaluation(bid, evaluation)
        ),
    )


# --- Preparing ------------------------------------------------------------------------------------


def contract_create(*, award: Any, acting_user: Any, number: str, request: Any = None) -> Contract:
    """Prepare the contract of an awarded decision, after the standstill, once per award."""
    from ebourgogne.awards.models import Award, Outcome

    with scopes_disabled():
        award = (
            Award.objects.select_related(
                "evaluation__consultation__organisation", "evaluation__lot", "winner__bid__company"
            )
            .filter(pk=getattr(award, "pk", award))
            .first()
        )
    if award is None:
        raise NotFound(_("Décision introuvable."))
    consultation = award.evaluation.consultation
    buyer = consultation.organisation
    documents.require(acting_user, buyer, MANAGE)
    if award.outcome != Outcome.AWARDED or award.winner is None:
        raise DomainError(_("Seule une décision d'attribution donne lieu à un marché."), code="not_awarded")
    now = clock.now()
    if award.letters_sent_at is None:
        raise DomainError(
            _("Envoyez d'abord les courriers de la décision (attribution et rejet) aux soumissionnaires."),
            code="letters_not_sent",
        )
    if award.standstill_ends_at is not None and now < award.standstill_ends_at:
        raise DomainError(
            _(
                "Le délai de suspension court jusqu'au %(date)s : le marché ne peut pas être préparé ni signé avant "
                "(article R2182-1 du code de la commande publique)."
            )
            % {"date": award.standstill_ends_at.astimezone(clock.PARIS).strftime("%d/%m/%Y %H:%M")},
            code="standstill",
        )
    text = str(number or "").strip()
    if not NUMBER_PATTERN.match(text):
        raise InvalidData(
            {
                "number": [
                    _(
                        "Le numéro du marché compte de 1 à 16 caractères : lettres, chiffres, points, tirets, "
                        "barres obliques."
                    )
                ]
            }
        )
    if award.winner.price is None or award.winner.price <= 0:
        raise DomainError(_("L'offre retenue n'a pas de prix : complétez l'analyse des offres."), code="no_price")
    lot = award.evaluation.lot
    bid = award.winner.bid
    place_code, place_type = _place(consultation, buyer)
    try:
        with transaction.atomic():
            with scopes_disabled():
                if Contract.objects.filter(award=award).exists():
                    raise DomainError(_("Le marché de cette décision est déjà préparé."), code="exists")
                if Contract.objects.filter(organisation=buyer, number=text).exists():
                    raise InvalidData({"number": [_("Ce numéro est déjà celui d'un autre de vos marchés.")]})
                title = consultation.title if lot is None else f"{consultation.title} — lot {lot.number} : {lot.title}"
                contract = Contract.objects.create(
                    organisation=buyer,
                    consultation=consultation,
                    lot=lot,
                    award=award,
                    holder=bid.company,
                    bid=bid,
                    number=text,
                    title=title[:255],
                    object=((lot.description if lot and lot.description else consultation.object) or title)[:1000],
                    contract_type=consultation.contract_type,
                    procedure=consultation.procedure,
                    cpv_code=consultation.main_cpv_id or "",
                    place_code=place_code,
                    place_code_type=place_type,
                    amount=award.winner.price,
                    duration_months=consultation.duration_months or 12,
                    bids_received=_bids_received(consultation, award.evaluation),
                    created_at=now,
                    created_by=acting_user,
                )
            _audit(
                "contracts.created",
                actor=acting_user,
                contract=contract,
                data={
                    "award": award.pk,
                    "consultation": consultation.reference,
                    "lot": lot.number if lot else None,
                    "holder": bid.company.name,
                    "amount": str(contract.amount),
                },
                request=request,
            )
            documents.add(
                contract=contract,
                kind=DocumentKind.CONTRACT,
                title=_("Acte d'engagement"),
                pdf=pdf.acte_engagement(contract, now=now),
                filename=f"acte-engagement-{_slug(text)}.pdf",
                acting_user=acting_user,
                request=request,
            )
    except IntegrityError as error:  # the same award prepared twice at the same moment
        raise DomainError(_("Le marché de cette décision est déjà préparé."), code="exists") from error
    return contract


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9-]+", "-", text).strip("-") or "marche"


def _choices(values: Any, allowed: tuple[str, ...], field: str, errors: dict[str, list[str]]) -> list[str]:
    items = [str(value).strip() for value in (values or []) if str(value).strip()]
    wrong = [item for item in items if item not in allowed]
    if wrong:
        errors.setdefault(field, []).append(_("Valeur non reconnue : %(values)s.") % {"values": ", ".join(wrong)[:200]})
    return list(dict.fromkeys(item for item in items if item in allowed))


def _bool(value: Any) -> bool:
    return value in (True, "true", "on", "1", 1, "True")


TERM_FIELDS = (
    "price_form",
    "price_types",
    "ccag",
    "techniques",
    "execution_modes",
    "social_considerations",
    "environmental_considerations",
    "innovative",
    "grouping",
    "has_advance",
    "advance_rate",
    "subcontracting_declared",
    "is_framework",
    "duration_months",
)


def contract_update_terms(*, contract: Contract, acting_user: Any, request: Any = None, **terms: Any) -> Contract:
    """Set the DECP terms of a contract in preparation (keys: `TERM_FIELDS`; a key not given is kept).
    While the acte d'engagement is not signed, it is regenerated with the new terms."""
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise TypeError(f"unknown terms: {sorted(unknown)}")
    with transaction.atomic():
        contract = _lock(contract)
        documents.require(acting_user, contract.organisation, MANAGE)
        if contract.state != ContractState.PREPARING:
            raise DomainError(
                _("Les conditions du marché se fixent pendant sa préparation, avant la signature."),
                code="not_preparing",
            )
        document = contract_document(contract)
        if document is not None and (document.buyer_signed_at or document.holder_signed_at):
            raise DomainError(
                _("L'acte d'engagement est déjà signé : ses conditions ne peuvent plus changer."), code="signed"
            )
        errors: dict[str, list[str]] = {}
        values: dict[str, Any] = {}
        if "price_form" in terms:
            if terms["price_form"] not in PriceForm.values:
                errors["price_form"] = [_("Choisissez la forme du prix.")]
            values["price_form"] = terms["price_form"]
        if "ccag" in terms:
            if terms["ccag"] not in Ccag.values:
                errors["ccag"] = [_("Choisissez le CCAG de référence.")]
            values["ccag"] = terms["ccag"]
        if "grouping" in terms:
            if terms["grouping"] not in Grouping.values:
                errors["grouping"] = [_("Choisissez le type de groupement.")]
            values["grouping"] = terms["grouping"]
        for field, allowed in (
            ("price_types", decp.PRICE_TYPES),
            ("techniques", decp.TECHNIQUES),
            ("execution_modes", decp.EXECUTION_MODES),
            ("social_considerations", decp.SOCIAL),
            ("environmental_considerations", decp.ENVIRONMENTAL),
        ):
            if field in terms:
                values[field] = _choices(terms[field], allowed, field, errors)
        for field in ("innovative", "has_advance", "subcontracting_declared", "is_framework"):
            if field in terms:
                values[field] = _bool(terms[field])
        if "duration_months" in terms:
            try:
                months = int(str(terms["duration_months"]).strip())
            except ValueError:
                months = 0
            if not 1 <= months <= MAX_DURATION_MONTHS:
                errors["duration_months"] = [_("La durée est un nombre entier de mois, de 1 à 1 200.")]
            values["duration_months"] = months
        has_advance = values.get("has_advance", contract.has_advance)
        if "advance_rate" in terms or "has_advance" in terms:
            raw = terms.get("advance_rate", contract.advance_rate * 100)
            rate = Decimal(0)
            if has_advance:
                try:
                    rate = Decimal(str(raw if raw not in (None, "") else "0").strip().replace(",", ".")) / 100
                except InvalidOperation:
                    rate = Decimal(-1)
                if not rate.is_finite() or not Decimal(0) < rate <= Decimal(1):
                    errors["advance_rate"] = [
                        _("Le taux de l'avance est un pourcentage supérieur à 0 et au plus égal à 100.")
                    ]
                    rate = Decimal(0)
            values["advance_rate"] = rate.quantize(Decimal("0.0001"))
        if errors:
            raise InvalidData(errors)
        before = {field: _jsonable(getattr(contract, field)) for field in values}
        for field, value in values.items():
            setattr(contract, field, value)
        with scopes_disabled():
            contract.save(update_fields=list(values))
        changed = {field: _jsonable(getattr(contract, field)) for field in values}
        _audit(
            "contracts.terms_set",
            actor=acting_user,
            contract=contract,
            data={"before": before, "after": changed},
            request=request,
        )
        if document is not None and values:
            _regenerate(document, contract)
    return contract


def _jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    return value


def _regenerate(document: ContractDocument, contract: Contract) -> None:
    """Replace the unsigned acte d'engagement by one with the current terms (same row, new file)."""
    documents.replace_unsigned(document, pdf.acte_engagement(contract, now=clock.now()))


# --- Signing and notifying ------------------------------------------------------------------------


def contract_sign(
    *, contract: Contract, party: str, acting_user: Any, certificate: Any, secret: str, request: Any = None
) -> Contract:
    """One party signs the acte d'engagement; once both have, the contract is signed."""
    with transaction.atomic():
        contract = _lock(contract)
        if contract.state != ContractState.PREPARING:
            # Checked after the permission, so that a stranger learns nothing.
            documents.require(
                acting_user,
                contract.organisation if party == "buyer" else contract.holder,
                documents.SIGN if party == "buyer" else documents.HOLDER_SIGN,
            )
            raise DomainError(_("Le marché est déjà signé par les deux parties."), code="already_signed")
        document = contract_document(contract)
        if document is None:
            raise DomainError(_("Le marché n'a pas d'acte d'engagement à signer."), code="no_document")
        document = documents.sign(
            document=document,
            party=party,
            acting_user=acting_user,
            certificate=certificate,
            secret=secret,
            request=request,
        )
        if documents.signed_by_both(document):
            contract.state = ContractState.SIGNED
            contract.signed_at = max(document.buyer_signed_at, document.holder_signed_at)
            with scopes_disabled():
                contract.save(update_fields=["state", "signed_at"])
    return contract


def contract_notify(*, contract: Contract, acting_user: Any, request: Any = None) -> Contract:
    """Notify the signed contract to the holder; its execution starts today; its essential data are published."""
    from ebourgogne.awards.models import LetterKind

    with transaction.atomic():
        contract = _lock(contract)
        documents.require(acting_user, contract.organisation, MANAGE)
        if contract.state != ContractState.SIGNED:
            if contract.state == ContractState.PREPARING:
                raise DomainError(
                    _("Le marché se notifie une fois l'acte d'engagement signé par les deux parties."),
                    code="not_signed",
                )
            raise DomainError(_("Le marché est déjà notifié."), code="already_notified")
        document = contract_document(contract)
        if document is None:  # pragma: no cover - a signed contract has its document
            raise DomainError(_("Le marché n'a pas d'acte d'engagement."), code="no_document")
        letter = documents.notify(
            document=document,
            letter_kind=LetterKind.CONTRACT,
            subject=_("Notification du marché %(number)s — %(title)s")
            % {"number": contract.number, "title": contract.title},
            summary=_(
                "Le marché n° %(number)s, signé par les deux parties, vous est notifié : son exécution commence à "
                "la date de la notification, pour %(months)s mois."
            )
            % {"number": contract.number, "months": contract.duration_months},
            acting_user=acting_user,
            request=request,
        )
        now = letter.sent_at
        starts = now.astimezone(clock.PARIS).date()
        contract.state = ContractState.NOTIFIED
        contract.notified_at = now
        contract.notification_letter = letter
        contract.starts_on = starts
        contract.ends_on = _add_months(starts, contract.duration_months)
        with scopes_disabled():
            contract.save(update_fields=["state", "notified_at", "notification_letter", "starts_on", "ends_on"])
            # The public page shows the award notice from now on: a new `updated_at` changes the page's stamp
            # (as awards' letters_send does), so its kept copy is not served again.
            Consultation.objects.filter(pk=contract.consultation_id).update(updated_at=now)
        record = decp.publish_initial(contract, now=now)
        if record is not None and contract.decp_published_at is None:
            with scopes_disabled():
                Contract.objects.filter(pk=contract.pk, decp_published_at__isnull=True).update(
                    decp_published_at=record.published_at
                )
            contract.decp_published_at = record.published_at
    return contract


def decp_siret_message() -> str:
    """What the buyer reads when its essential data cannot be published for want of its SIRET."""
    return _(
        "Les données essentielles ne peuvent pas être publiées : le SIRET de votre organisation (14 chiffres), "
        "qui identifie l'acheteur, n'est pas renseigné. Renseignez-le dans les paramètres de votre organisation "
        "(page « Informations de l'organisation », champ « Numéro SIRET ») ; elles seront alors publiées automatiquement la nuit suivante, ou dès que "
        "vous cliquerez sur « Publier les données essentielles maintenant »."
    )


def contract_decp_publish(*, contract: Contract, acting_user: Any, request: Any = None) -> Contract:
    """Publish now the essential data of a notified contract that are still missing (its initial data,
    then its notified modifications, accepted subcontracting acts and their changes, in that order): the
    catch-up of a publication that did not happen at notification (a contract notified before the
    platform published, an interrupted notification). Appends only; what is published stays as it is."""
    from ebourgogne.contracts.models import ChangeState, Modification, Subcontract, SubcontractChange

    with transaction.atomic():
        contract = _lock(contract)
        documents.require(acting_user, contract.organisation, MANAGE)
        state = decp.status(contract).state
        if state == "not_required":
            raise DomainError(
                _("Ce marché n'a pas de données essentielles à publier (moins de 40 000 € HT ou entraînement)."),
                code="not_required",
            )
        if state == "not_notified":
            raise DomainError(
                _("Les données essentielles se publient une fois le marché notifié."), code="not_notified"
            )
        if state != "published" and not decp.buyer_ready(contract):
            raise DomainError(decp_siret_message(), code="buyer_siret")
        with scopes_disabled():
            pending = (
                Modification.objects.filter(
                    contract=contract, state=ChangeState.NOTIFIED, decp_published_at__isnull=True
                ).exists()
                or Subcontract.objects.filter(
                    contract=contract, notified_at__isnull=False, decp_published_at__isnull=True
                ).exists()
                or SubcontractChange.objects.filter(
                    subcontract__contract=contract, notified_at__isnull=False, decp_published_at__isnull=True
                ).exists()
            )
        if state == "published" and not pending:
            raise DomainError(_("Les données essentielles de ce marché sont déjà publiées."), code="published")
        records = decp.publish_missing(contract, now=clock.now())
        with scopes_disabled():
            contract.refresh_from_db()
        if contract.decp_published_at is None and records:
            with scopes_disabled():
                Contract.objects.filter(pk=contract.pk).update(decp_published_at=records[0].published_at)
            contract.decp_published_at = records[0].published_at
        _audit(
            "contracts.decp_published",
            actor=acting_user,
            contract=contract,
            data={"records": len(records), "catch_up": True},
            request=request,
        )
    return contract


def _add_months(day: dt.date, months: int) -> dt.date:
    """The day before the same day `months` later (a contract of 12 months from 3 March ends on 2 March)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = (following - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last)) - dt.timedelta(days=1)


# --- A piece signed elsewhere ---------------------------------------------------------------------


def document_upload_signed(
    *,
    contract: Contract,
    acting_user: Any,
    pdf_bytes: bytes,
    filename: str,
    title: str,
    kind: str = DocumentKind.OTHER,
    detached: bytes | None = None,
    request: Any = None,
) -> ContractDocument:
    """Store a piece signed outside the platform (the holder signs with its own tool, for instance) with
    the report of its signatures (`signatures.verify`), shown next to it. The report is informative: a
    piece whose signatures do not verify is kept, marked as such."""
    from ebourgogne.signatures import verify as verifying

    data = documents.check_pdf(pdf_bytes)
    try:
        report = verifying.verify(data, filename=str(filename or "document.pdf"), detached=detached)
        verification = report.as_dict()
    except DomainError:
        raise
    except Exception as error:  # a damaged file the verifier cannot read: kept, reported unreadable
        verification = {"source": "verify", "error": str(error)[:500]}
    with transaction.atomic():
        document = documents.add(
            contract=contract,
            kind=kind,
            title=title,
            pdf=data,
            filename=filename,
            acting_user=acting_user,
            request=request,
        )
        with scopes_disabled():
            ContractDocument.objects.filter(pk=document.pk).update(verification=verification)
        document.verification = verification
    return document


def modification_set_new_holder(
    *, acting_user: Any, modification: Any, name: str, siret: str, request: Any = None
) -> Any:
    """Record (or clear, both empty) the new holder of a modification prepared on the ground R2194-6, while
    it is a draft: the essential data of the modification then give it (`modification.titulaires`).
    InvalidData with a message per field; nothing stored on a refusal."""
    from ebourgogne.contracts.models import ChangeState, LegalGround, Modification
    from ebourgogne.organisations.identifiers import InvalidIdentifier, clean_siret

    with transaction.atomic():
        contract = _lock(modification.contract)
        documents.require(acting_user, contract.organisation, MANAGE)
        with scopes_disabled():
            current = Modification.objects.select_for_update().filter(pk=modification.pk, contract=contract).first()
        if current is None:
            raise NotFound(_("Modification introuvable."))
        document = current.document if current.document_id else None
        if current.state != ChangeState.DRAFT or (
            # a draft stays a draft until both parties signed: the first signature already fixes its PDF
            document is not None and (document.buyer_signed_at or document.holder_signed_at or document.notified_at)
        ):
            raise DomainError(
                _("La modification est déjà signée ou notifiée : son titulaire ne peut plus changer."), code="signed"
            )
        name, siret = (name or "").strip(), (siret or "").strip()
        errors: dict[str, list[str]] = {}
        if name or siret:
            if current.legal_ground != LegalGround.NEW_HOLDER:
                errors["new_holder_siret"] = [
                    _("Un nouveau titulaire ne s'indique que pour une modification fondée sur R2194-6.")
                ]
            if not name:
                errors["new_holder_name"] = [_("Indiquez la raison sociale du nouveau titulaire.")]
            try:
                siret = clean_siret(siret)
            except InvalidIdentifier as invalid:
                errors["new_holder_siret"] = [invalid.message]
            else:
                if siret == (contract.holder.siret or ""):
                    errors["new_holder_siret"] = [_("C'est le SIRET du titulaire actuel : indiquez celui du nouveau.")]
        if errors:
            raise InvalidData(errors)
        current.new_holder_name, current.new_holder_siret = name[:255], siret
        with scopes_disabled():
            current.save(update_fields=["new_holder_name", "new_holder_siret"])
        _audit(
            "contracts.modification_new_holder",
            actor=acting_user,
            contract=contract,
            data={"modification": current.number, "new_holder_siret": siret},
            request=request,
        )
    return current
