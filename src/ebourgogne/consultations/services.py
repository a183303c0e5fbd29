"""Every change to a consultation: creation, edits (lots and CPV codes included), publication, deadline
postponement, closing, opening, outcome and cancellation.

Each function is one atomic step: it checks the caller's right (`consultations.manage` in the
consultation's organisation; the scheduler acts as the system with `acting_user=None`, for closing
only), locks the consultation row, checks the state machine (`models.TRANSITIONS`) and the rules, writes,
records an audit event and sends the signals of `consultations.signals`. A refusal raises `DomainError`
(field errors: `InvalidData`, whose `errors` maps field names to messages) with a translated message,
and nothing is stored.

Dates are aware datetimes (stored in UTC); the rules that count days (R2132-6) count them on the
Europe/Paris calendar.

Data of a lot (`lots=[...]` in `consultation_create` / `consultation_update`, or `lot_add` / `lot_update`):
a mapping with `title` (required), `description`, `estimated_value`, `main_cpv`, `additional_cpv`, and
for an existing lot its `id`. Passing `lots` to `consultation_update` gives the whole list: lots left out
are removed, the others are numbered in the order given.

CPV codes are given as "45210000" or "45210000-2"; an unknown code is refused. The main code of the
consultation is the `ConsultationCpv` row with `lot=None, is_main=True`; a lot's main code is its row
with `is_main=True`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, OperationalError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.commissions.models import Commission
from ebourgogne.consultations import signals
from ebourgogne.consultations.models import (
    TRANSITIONS,
    Consultation,
    ConsultationCpv,
    ContractType,
    CpvCode,
    Lot,
    Procedure,
    State,
)
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations import identifiers
from ebourgogne.organisations.models import BuyerService, Organisation
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of
from ebourgogne.organisations.services import InvalidData

logger = logging.getLogger("ebourgogne.consultations")
MANAGE = "consultations.manage"

# R2132-6: in formalised procedures answers must be possible this many days before the bid deadline.
ANSWER_DELAY_DAYS = 6
ANSWER_DELAY_DAYS_URGENCY = 4

MAX_LOTS = 500
MAX_ADDITIONAL_CPV = 50

# Plain descriptive fields, and their maximum lengths (None: free text).
TEXT_FIELDS: dict[str, int | None] = {
    "reference": 50,
    "title": 255,
    "object": None,
    "commune": 120,
    "required_documents": None,
    "contact_name": 150,
    "contact_phone": 30,
}
DATE_FIELDS = ("questions_deadline", "bids_deadline", "planned_opening_at")
EDITABLE_FIELDS = frozenset(
    {
        *TEXT_FIELDS,
        *DATE_FIELDS,
        "contract_type",
        "procedure",
        "service",
        "department",
        "insee_code",
        "estimated_value",
        "duration_months",
        "variants_allowed",
        "urgency",
        "contact_email",
        "main_cpv",
        "additional_cpv",
        "lots",
        "commission",
    }
)
# Once published, these stay as published: the bid deadline moves only through
# `consultation_postpone_deadline`; the reference, procedure and contract type define the consultation.
# The opening commission too: its members received the shares of the opening key at publication.
LOCKED_AFTER_PUBLICATION = frozenset(
    {"reference", "procedure", "contract_type", "urgency", "bids_deadline", "commission"}
)
# States in which the consultation can still be edited.
EDITABLE_STATES = frozenset({State.DRAFT, State.PUBLISHED})
OUTCOMES = frozenset({State.AWARDED, State.UNSUCCESSFUL, State.ABANDONED})


# --- Errors and small helpers ---------------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidData(self.errors)


def local_display(moment: dt.datetime | None) -> str:
    """A date and time as shown to people: Europe/Paris, with the zone named ("12/03/2026 17:00 (heure de Paris)")."""
    if moment is None:
        return ""
    local = moment.astimezone(PARIS)
    shown = {"date": formats.date_format(local, "SHORT_DATE_FORMAT"), "time": local.strftime("%H:%M")}
    naive = local.replace(tzinfo=None)
    if naive.replace(tzinfo=PARIS, fold=0).utcoffset() != naive.replace(tzinfo=PARIS, fold=1).utcoffset():
        # The hour that happens twice when clocks go back: say which one.
        if local.dst():
            return _("%(date)s à %(time)s (heure de Paris, heure d'été, UTC+2)") % shown
        return _("%(date)s à %(time)s (heure de Paris, heure d'hiver, UTC+1)") % shown
    return _("%(date)s à %(time)s (heure de Paris)") % shown


def _require(
    acting_user: Any, organisation: Organisation, *, system_allowed: bool = False, permission: str = MANAGE
) -> None:
    """Deny by default: the caller must hold `consultations.manage` (or `permission`) in the organisation.
    `acting_user=None` is the system (the scheduler), allowed only where `system_allowed`."""
    if acting_user is None:
        if system_allowed:
            return
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    if not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    roles = roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()
    if not roles:
        raise NotFound(_("Organisation introuvable."))
    if not roles_grant(roles, permission):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas de gérer ses consultations."))


def _lock(consultation: Consultation | int) -> Consultation:
    pk = consultation if isinstance(consultation, int) else consultation.pk
    with scopes_disabled():
        found = (
            Consultation.objects.select_for_update(no_key=True, of=("self",))
            .select_related("organisation")
            .filter(pk=pk)
            .first()
        )
    if found is None:
        raise NotFound(_("Consultation introuvable."))
    return found


def _check_transition(consultation: Consultation, target: str) -> None:
    if target not in TRANSITIONS.get(consultation.state, frozenset()):
        raise DomainError(
            _("Impossible de passer la consultation de l'état « %(current)s » à l'état « %(target)s ».")
            % {"current": State(consultation.state).label, "target": State(target).label},
            code="illegal_transition",
        )


def _reason(errors: _Errors, value: Any, *, required_message: str) -> str:
    text = str(value or "").strip()
    if not text:
        errors.add("reason", required_message)
    elif len(text) > 5000:
        errors.add("reason", _("Le motif ne peut pas dépasser 5 000 caractères."))
    return text


def _audit(action: str, *, actor: Any, consultation: Consultation, data: dict[str, Any], request: Any) -> None:
    log_event(
        action=action,
        actor=actor,
        organisation=consultation.organisation,
        obj=consultation,
        data={"reference": consultation.reference, **data},
        request=request,
    )


def _plain(value: Any) -> Any:
    """A value as it goes into audit data and signal payloads (JSON-friendly)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (BuyerService, Commission)):
        return value.pk
    return value


# --- Dates and the R2132-6 rule -------------------------------------------------------------------


def answer_delay_days(consultation: Consultation) -> int | None:
    """Days before the bid deadline by which answers must go out (R2132-6), or None outside formalised procedures."""
    if not consultation.is_formalised:
        return None
    return ANSWER_DELAY_DAYS_URGENCY if consultation.urgency else ANSWER_DELAY_DAYS


def last_answer_date(consultation: Consultation) -> dt.datetime | None:
    """The last moment answers to questions can be sent under R2132-6 (formalised procedures), or None.

    Days are counted on the Paris calendar (same wall-clock time N days earlier); around a daylight-saving
    change the earlier of that and N × 24 hours is kept, so the rule is never made looser."""
    days = answer_delay_days(consultation)
    if days is None or consultation.bids_deadline is None:
        return None
    deadline = consultation.bids_deadline
    local = deadline.astimezone(PARIS).replace(tzinfo=None) - dt.timedelta(days=days)
    by_calendar = local.replace(tzinfo=PARIS, fold=0).astimezone(dt.UTC)
    by_hours = deadline - dt.timedelta(days=days)
    return min(by_calendar, by_hours)


def _aware(errors: _Errors, field: str, value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            errors.add(field, _("Date et heure invalides."))
            return None
    if not isinstance(value, dt.datetime):
        errors.add(field, _("Date et heure invalides."))
        return None
    if timezone.is_naive(value):
        errors.add(field, _("Indiquez le fuseau horaire de la date (heure de Paris)."))
        return None
    return value.astimezone(dt.UTC)


def _check_dates(errors: _Errors, consultation: Consultation) -> None:
    """Dates that contradict each other (checked at every save, draft included)."""
    questions, bids, opening = (
        consultation.questions_deadline,
        consultation.bids_deadline,
        consultation.planned_opening_at,
    )
    if questions and bids and questions >= bids:
        errors.add(
            "questions_deadline",
            _("La date limite des questions doit précéder la date limite de remise des plis."),
        )
    if opening and bids and opening < bids:
        errors.add(
            "planned_opening_at",
            _("L'ouverture des plis ne peut pas précéder la date limite de remise des plis."),
        )
    last = last_answer_date(consultation)
    if questions and bids and last is not None and questions < bids and questions > last:
        errors.add("questions_deadline", _r2132_6_message(consultation, last))


def _r2132_6_message(consultation: Consultation, last: dt.datetime) -> str:
    return _(
        "En procédure formalisée, les réponses aux questions doivent pouvoir être envoyées au moins "
        "%(days)d jours avant la date limite de remise des plis (article R2132-6 du code de la commande "
        "publique), soit au plus tard le %(last)s. Fixez la date limite des questions à cette date ou avant."
    ) % {"days": answer_delay_days(consultation), "last": local_display(last)}


# --- CPV codes --------------------------------------------------------------------------------------


def _cpv_digits(value: Any) -> str:
    return str(value or "").strip().split("-")[0].strip()


def _resolve_cpv(errors: _Errors, field: str, codes: Iterable[Any]) -> list[CpvCode]:
    """The CpvCode rows of `codes` (in order, without repeats); unknown codes are field errors."""
    wanted = []
    for value in codes:
        digits = _cpv_digits(value)
        if digits and digits not in wanted:
            wanted.append(digits)
    found = {cpv.code: cpv for cpv in CpvCode.objects.filter(code__in=wanted)}
    unknown = [code for code in wanted if code not in found]
    for code in unknown:
        errors.add(
            field,
            _("Le code CPV « %(code)s » n'existe pas dans la nomenclature CPV 2008.") % {"code": code[:20]},
        )
    for value in codes:
        full = str(value or "").strip()
        digits = _cpv_digits(full)
        if "-" in full and digits in found and full.split("-", 1)[1].strip() != found[digits].check_digit:
            errors.add(
                field,
                _("Le chiffre de contrôle du code CPV « %(code)s » est faux (attendu : %(expected)s).")
                % {"code": full[:20], "expected": found[digits].full_code},
            )
    return [found[code] for code in wanted if code in found]


def _cpv_list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        return [part for part in value.replace(",", " ").replace(";", " ").split() if part]
    return list(value)


def _codes_of(consultation: Consultation, lot: Lot | None) -> tuple[str | None, list[str]]:
    rows = list(
        ConsultationCpv.objects.filter(consultation=consultation, lot=lot)
        .order_by("-is_main", "cpv_id")
        .values_list("cpv_id", "is_main")
    )
    main = next((code for code, is_main in rows if is_main), None)
    return main, [code for code, is_main in rows if not is_main]


def _write_codes(consultation: Consultation, lot: Lot | None, main: CpvCode | None, others: list[CpvCode]) -> None:
    ConsultationCpv.objects.filter(consultation=consultation, lot=lot).delete()
    rows = []
    if main is not None:
        rows.append(ConsultationCpv(consultation=consultation, lot=lot, cpv=main, is_main=True))
    rows.extend(
        ConsultationCpv(consultation=consultation, lot=lot, cpv=cpv, is_main=False)
        for cpv in others
        if main is None or cpv.code != main.code
    )
    ConsultationCpv.objects.bulk_create(rows)


# --- Validation of the fields -----------------------------------------------------------------------


def _clean_fields(errors: _Errors, organisation: Organisation, data: Mapping[str, Any]) -> dict[str, Any]:
    """The model fields among `data`, cleaned (CPV codes and lots are handled apart)."""
    cleaned: dict[str, Any] = {}
    for name, max_length in TEXT_FIELDS.items():
        if name not in data:
            continue
        text = str(data[name] or "").strip()
        if name in ("reference", "title", "contact_name", "commune", "contact_phone"):
            text = " ".join(text.split())
        if max_length is not None and len(text) > max_length:
            errors.add(name, _("Ce champ ne peut pas dépasser %(max)d caractères.") % {"max": max_length})
        if any(ord(char) < 32 and char not in "\n\r\t" for char in text):
            errors.add(name, _("Ce champ contient des caractères de contrôle."))
        cleaned[name] = text
    for name, choices, message in (
        ("contract_type", ContractType.values, _("Choisissez le type de marché dans la liste.")),
        ("procedure", Procedure.values, _("Choisissez la procédure dans la liste.")),
    ):
        if name in data:
            value = str(data[name] or "")
            if value not in choices:
                errors.add(name, message)
            cleaned[name] = value
    if "service" in data:
        service = data["service"]
        if service in (None, ""):
            cleaned["service"] = None
        else:
            service_id = service.pk if isinstance(service, BuyerService) else service
            with scopes_disabled():
                found = BuyerService.objects.filter(pk=_int_or_none(service_id), organisation=organisation).first()
            if found is None:
                errors.add("service", _("Choisissez un service de l'acheteur."))
            cleaned["service"] = found
    if "commission" in data:
        # The opening commission (sealed bids): one of the buyer's active commissions, or None for its default.
        commission = data["commission"]
        if commission in (None, ""):
            cleaned["commission"] = None
        else:
            with scopes_disabled():
                found = Commission.objects.filter(
                    pk=_int_or_none(getattr(commission, "pk", commission)), organisation=organisation, is_active=True
                ).first()
            if found is None:
                errors.add("commission", _("Choisissez une commission de l'acheteur."))
            cleaned["commission"] = found
    if "department" in data:
        department = str(data["department"] or "").strip()
        if department:
            try:
                department = identifiers.clean_department(department)
            except identifiers.InvalidIdentifier as invalid:
                errors.add("department", invalid.message)
        cleaned["department"] = department
    if "insee_code" in data:
        insee = str(data["insee_code"] or "").strip()
        if insee:
            department = cleaned.get("department") if "department" not in errors.errors else None
            try:
                insee = identifiers.clean_insee_code(insee, department or None)
            except identifiers.InvalidIdentifier as invalid:
                errors.add("insee_code", invalid.message)
        cleaned["insee_code"] = insee
    if "estimated_value" in data:
        cleaned["estimated_value"] = _money(errors, "estimated_value", data["estimated_value"])
    if "duration_months" in data:
        value = data["duration_months"]
        if value in (None, ""):
            cleaned["duration_months"] = None
        else:
            months = _int_or_none(value)
            if months is None or not 1 <= months <= 1200:
                errors.add("duration_months", _("La durée est un nombre de mois entre 1 et 1200."))
            cleaned["duration_months"] = months
    for name in ("variants_allowed", "urgency"):
        if name in data:
            cleaned[name] = bool(data[name])
    if "contact_email" in data:
        email = str(data["contact_email"] or "").strip().lower()
        if email:
            try:
                validate_email(email)
            except ValidationError:
                errors.add(
                    "contact_email", _("Saisissez une adresse électronique valide, par exemple marches@exemple.fr.")
                )
        cleaned["contact_email"] = email
    for name in DATE_FIELDS:
        if name in data:
            cleaned[name] = _aware(errors, name, data[name])
    return cleaned


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _money(errors: _Errors, field: str, value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(" ", "").replace("\u202f", "").replace(",", "."))
    except InvalidOperation:
        errors.add(field, _("Indiquez un montant en euros, par exemple 150000 ou 150000,50."))
        return None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e13"):
        errors.add(field, _("Indiquez un montant positif de moins de 10 000 milliards d'euros."))
        return None
    return amount.quantize(Decimal("0.01"))


def _clean_lots(errors: _Errors, consultation: Consultation | None, lots: Any) -> list[dict[str, Any]]:
    """The lots as cleaned dicts (title, description, estimated_value, main, others, id)."""
    if not isinstance(lots, (list, tuple)):
        errors.add("lots", _("Liste de lots invalide."))
        return []
    if len(lots) > MAX_LOTS:
        errors.add("lots", _("Une consultation compte au plus %(max)d lots.") % {"max": MAX_LOTS})
        return []
    existing = set()
    if consultation is not None and consultation.pk:
        with scopes_disabled():
            existing = set(Lot.objects.filter(consultation=consultation).values_list("pk", flat=True))
    cleaned = []
    seen_ids = set()
    for position, lot in enumerate(lots, start=1):
        if not isinstance(lot, Mapping):
            errors.add("lots", _("Lot %(number)d : données invalides.") % {"number": position})
            continue
        lot_errors = _Errors()
        lot_id = lot.get("id")
        if lot_id not in (None, ""):
            lot_id = _int_or_none(lot_id)
            if lot_id not in existing or lot_id in seen_ids:
                lot_errors.add("id", _("lot inconnu."))
            seen_ids.add(lot_id)
        else:
            lot_id = None
        title = " ".join(str(lot.get("title") or "").split())
        if not title:
            lot_errors.add("title", _("indiquez l'intitulé du lot."))
        elif len(title) > 255:
            lot_errors.add("title", _("l'intitulé du lot ne peut pas dépasser 255 caractères."))
        value = _money(lot_errors, "estimated_value", lot.get("estimated_value"))
        main = _resolve_cpv(lot_errors, "main_cpv", _cpv_list(lot.get("main_cpv"))[:1])
        if len(_cpv_list(lot.get("main_cpv"))) > 1:
            lot_errors.add("main_cpv", _("un seul code CPV principal par lot."))
        others = _resolve_cpv(lot_errors, "additional_cpv", _cpv_list(lot.get("additional_cpv")))
        if len(others) > MAX_ADDITIONAL_CPV:
            lot_errors.add("additional_cpv", _("trop de codes CPV."))
        for messages in lot_errors.errors.values():
            for message in messages:
                errors.add("lots", _("Lot %(number)d : %(message)s") % {"number": position, "message": message})
        cleaned.append(
            {
                "id": lot_id,
                "title": title,
                "description": str(lot.get("description") or "").strip(),
                "estimated_value": value,
                "main": main[0] if main else None,
                "others": others,
            }
        )
    return cleaned


def _lots_summary(consultation: Consultation) -> list[dict[str, Any]]:
    summary = []
    for lot in Lot.objects.filter(consultation=consultation).order_by("number"):
        main, others = _codes_of(consultation, lot)
        summary.append(
            {
                "id": lot.pk,
                "number": lot.number,
                "title": lot.title,
                "description": lot.description,
                "estimated_value": _plain(lot.estimated_value),
                "main_cpv": main,
                "additional_cpv": others,
            }
        )
    return summary


def _write_lots(consultation: Consultation, lots: list[dict[str, Any]]) -> None:
    keep = {lot["id"] for lot in lots if lot["id"]}
    Lot.objects.filter(consultation=consultation).exclude(pk__in=keep).delete()
    # Numbers are unique per consultation: move the kept lots out of the way before renumbering.
    for lot in Lot.objects.filter(consultation=consultation):
        Lot.objects.filter(pk=lot.pk).update(number=lot.number + 10000)
    for number, data in enumerate(lots, start=1):
        fields = {
            "number": number,
            "title": data["title"],
            "description": data["description"],
            "estimated_value": data["estimated_value"],
        }
        if data["id"]:
            Lot.objects.filter(pk=data["id"]).update(**fields)
            lot = Lot.objects.get(pk=data["id"])
        else:
            lot = Lot.objects.create(consultation=consultation, **fields)
        _write_codes(consultation, lot, data["main"], data["others"])


# --- Create and edit --------------------------------------------------------------------------------


@transaction.atomic
def consultation_create(
    *, acting_user: Any, organisation: Organisation, request: Any = None, **fields: Any
) -> Consultation:
    """Create a draft consultation. Required: reference, title, contract_type, procedure. Optional: every
    other editable field (see EDITABLE_FIELDS), `main_cpv`, `additional_cpv` and `lots`."""
    _require(acting_user, organisation)
    unknown = sorted(set(fields) - EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("Champs inconnus : %(fields)s.") % {"fields": ", ".join(unknown)})
    data = {"reference": "", "title": "", "contract_type": "", "procedure": "", **fields}
    errors = _Errors()
    cleaned = _clean_fields(errors, organisation, data)
    if not cleaned.get("reference"):
        errors.add("reference", _("Indiquez la référence interne de la consultation."))
    if not cleaned.get("title"):
        errors.add("title", _("Indiquez l'intitulé de la consultation."))
    main = _resolve_cpv(errors, "main_cpv", _cpv_list(fields.get("main_cpv"))[:1])
    if len(_cpv_list(fields.get("main_cpv"))) > 1:
        errors.add("main_cpv", _("Indiquez un seul code CPV principal."))
    others = _resolve_cpv(errors, "additional_cpv", _cpv_list(fields.get("additional_cpv")))
    if len(others) > MAX_ADDITIONAL_CPV:
        errors.add("additional_cpv", _("Indiquez au plus %(max)d codes CPV.") % {"max": MAX_ADDITIONAL_CPV})
    lots = _clean_lots(errors, None, fields["lots"]) if "lots" in fields else []
    with scopes_disabled():
        if (
            cleaned.get("reference")
            and Consultation.objects.filter(organisation=organisation, reference=cleaned["reference"]).exists()
        ):
            errors.add("reference", _duplicate_reference_message())
    consultation = Consultation(organisation=organisation, created_by=acting_user, **cleaned)
    consultation.main_cpv = main[0] if main else None
    _check_dates(errors, consultation)
    errors.raise_if_any()
    with scopes_disabled():
        try:
            with transaction.atomic():
                consultation.save()
        except IntegrityError:
            raise InvalidData({"reference": [_duplicate_reference_message()]}) from None
        _write_codes(consultation, None, consultation.main_cpv, others)
        _write_lots(consultation, lots)
    _audit(
        "consultation.created",
        actor=acting_user,
        consultation=consultation,
        data={"title": consultation.title, "lots": len(lots)},
        request=request,
    )
    return consultation


def _duplicate_reference_message() -> str:
    return _("Une autre consultation de cet acheteur porte déjà cette référence.")


@transaction.atomic
def consultation_update(
    *, acting_user: Any, consultation: Consultation, request: Any = None, **changes: Any
) -> Consultation:
    """Change fields, CPV codes (`main_cpv`, `additional_cpv`) and lots (`lots`: the whole new list).

    Drafts: everything. Published: everything but LOCKED_AFTER_PUBLICATION (the bid deadline moves with
    `consultation_postpone_deadline`); the changes of public fields are sent with `consultation_changed`.
    Later states: nothing."""
    consultation = _lock(consultation)
    _require(acting_user, consultation.organisation)
    unknown = sorted(set(changes) - EDITABLE_FIELDS)
    if unknown:
        raise DomainError(_("Champs inconnus : %(fields)s.") % {"fields": ", ".join(unknown)})
    published = consultation.state == State.PUBLISHED
    if consultation.state not in EDITABLE_STATES or (published and consultation.deadline_passed):
        raise DomainError(
            _("Une consultation à l'état « %(state)s » ne peut plus être modifiée.")
            % {"state": consultation.get_effective_state_display()},
            code="not_editable",
        )
    errors = _Errors()
    if published:
        for name in sorted(LOCKED_AFTER_PUBLICATION & set(changes)):
            if _plain(changes[name]) != _plain(getattr(consultation, name)) and not (
                name in DATE_FIELDS and _same_instant(changes[name], getattr(consultation, name))
            ):
                message = (
                    _(
                        "Après la publication, la date limite de remise des plis ne peut être que reportée (action « Reporter la date limite »)."
                    )
                    if name == "bids_deadline"
                    else _("Ce champ ne peut plus être modifié après la publication.")
                )
                errors.add(name, message)
        changes = {name: value for name, value in changes.items() if name not in LOCKED_AFTER_PUBLICATION}
    cleaned = _clean_fields(errors, consultation.organisation, changes)
    for name in ("reference", "title"):
        if name in cleaned and not cleaned[name]:
            errors.add(name, _("Ce champ est obligatoire."))
    if published and "questions_deadline" in cleaned:
        new_questions = cleaned["questions_deadline"]
        if new_questions is None:
            errors.add("questions_deadline", _("Une consultation publiée garde une date limite des questions."))
        elif new_questions != consultation.questions_deadline and new_questions <= clock.now():
            errors.add("questions_deadline", _("La nouvelle date limite des questions doit être dans le futur."))

    old = {name: getattr(consultation, name) for name in cleaned}
    with scopes_disabled():
        old_main, old_others = _codes_of(consultation, None)
        new_main = old_main
        new_others_rows = None
        if "main_cpv" in changes:
            main = _resolve_cpv(errors, "main_cpv", _cpv_list(changes["main_cpv"])[:1])
            if len(_cpv_list(changes["main_cpv"])) > 1:
                errors.add("main_cpv", _("Indiquez un seul code CPV principal."))
            new_main_row = main[0] if main else None
            new_main = new_main_row.code if new_main_row else None
        if "additional_cpv" in changes:
            new_others_rows = _resolve_cpv(errors, "additional_cpv", _cpv_list(changes["additional_cpv"]))
            if len(new_others_rows) > MAX_ADDITIONAL_CPV:
                errors.add("additional_cpv", _("Indiquez au plus %(max)d codes CPV.") % {"max": MAX_ADDITIONAL_CPV})
        if published and "main_cpv" in changes and new_main is None:
            errors.add("main_cpv", _("Une consultation publiée garde un code CPV principal."))
        lots = _clean_lots(errors, consultation, changes["lots"]) if "lots" in changes else None
        if "reference" in cleaned and cleaned["reference"] != consultation.reference:
            if (
                Consultation.objects.filter(organisation=consultation.organisation, reference=cleaned["reference"])
                .exclude(pk=consultation.pk)
                .exists()
            ):
                errors.add("reference", _duplicate_reference_message())
        for name, value in cleaned.items():
            setattr(consultation, name, value)
        _check_dates(errors, consultation)
        errors.raise_if_any()

        changed: dict[str, tuple[Any, Any]] = {
            name: (_plain(old[name]), _plain(value)) for name, value in cleaned.items() if old[name] != value
        }
        if "main_cpv" in changes or "additional_cpv" in changes:
            if "main_cpv" in changes:
                consultation.main_cpv_id = new_main
            others = (
                new_others_rows
                if new_others_rows is not None
                else list(CpvCode.objects.filter(code__in=old_others).order_by("code"))
            )
            new_main_row = CpvCode.objects.filter(code=new_main).first() if new_main else None
            new_other_codes = sorted(cpv.code for cpv in others if cpv.code != new_main)
            if (old_main, sorted(old_others)) != (new_main, new_other_codes):
                changed["cpv"] = (
                    {"main": old_main, "additional": sorted(old_others)},
                    {"main": new_main, "additional": new_other_codes},
                )
                _write_codes(consultation, None, new_main_row, others)
        if lots is not None:
            before = _lots_summary(consultation)
            _write_lots(consultation, lots)
            after = _lots_summary(consultation)
            if before != after:
                changed["lots"] = (before, after)
        if not changed:
            return consultation
        try:
            with transaction.atomic():
                consultation.save()
        except IntegrityError:
            raise InvalidData({"reference": [_duplicate_reference_message()]}) from None
    _audit(
        "consultation.updated",
        actor=acting_user,
        consultation=consultation,
        data={"fields": sorted(changed), "published": published},
        request=request,
    )
    if consultation.is_public:
        signals.consultation_changed.send(sender=Consultation, consultation=consultation, changes=changed)
    return consultation


def _same_instant(value: Any, current: Any) -> bool:
    return isinstance(value, dt.datetime) and isinstance(current, dt.datetime) and value == current


def lot_add(*, acting_user: Any, consultation: Consultation, request: Any = None, **lot: Any) -> Lot:
    """Add one lot at the end (see the module's docstring for its data)."""
    with transaction.atomic():
        current = _lock(consultation)
        _require(acting_user, current.organisation)
        lots = _lots_input(current)
        consultation_update(
            acting_user=acting_user, consultation=current, request=request, lots=[*lots, {**lot, "id": None}]
        )
        with scopes_disabled():
            return Lot.objects.filter(consultation=current).order_by("-number").first()


def lot_update(*, acting_user: Any, consultation: Consultation, lot_id: int, request: Any = None, **lot: Any) -> Lot:
    """Change one lot (fields not given stay as they are)."""
    with transaction.atomic():
        current = _lock(consultation)
        _require(acting_user, current.organisation)
        lots = _lots_input(current)
        if not any(item["id"] == lot_id for item in lots):
            raise NotFound(_("Lot introuvable."))
        lots = [{**item, **lot, "id": lot_id} if item["id"] == lot_id else item for item in lots]
        consultation_update(acting_user=acting_user, consultation=current, request=request, lots=lots)
        with scopes_disabled():
            return Lot.objects.get(pk=lot_id)


def lot_remove(*, acting_user: Any, consultation: Consultation, lot_id: int, request: Any = None) -> None:
    """Remove one lot; the following lots are renumbered."""
    with transaction.atomic():
        current = _lock(consultation)
        _require(acting_user, current.organisation)
        lots = _lots_input(current)
        if not any(item["id"] == lot_id for item in lots):
            raise NotFound(_("Lot introuvable."))
        consultation_update(
            acting_user=acting_user,
            consultation=current,
            request=request,
            lots=[item for item in lots if item["id"] != lot_id],
        )


def _lots_input(consultation: Consultation) -> list[dict[str, Any]]:
    with scopes_disabled():
        return [
            {
                "id": item["id"],
                "title": item["title"],
                "description": item["description"],
                "estimated_value": item["estimated_value"],
                "main_cpv": item["main_cpv"] or "",
                "additional_cpv": item["additional_cpv"],
            }
            for item in _lots_summary(consultation)
        ]


# --- Publication and deadlines ----------------------------------------------------------------------


def publication_problems(consultation: Consultation, *, now: dt.datetime | None = None) -> dict[str, list[str]]:
    """What prevents publishing `consultation` now, by field (empty when it can be published)."""
    moment = now or clock.now()
    errors = _Errors()
    if not consultation.main_cpv_id:
        errors.add("main_cpv", _("Indiquez le code CPV principal avant de publier."))
    if not consultation.object.strip():
        errors.add("object", _("Décrivez l'objet de la consultation avant de publier."))
    if not (consultation.contact_email or consultation.contact_phone or consultation.contact_name):
        errors.add("contact_email", _("Indiquez un contact (nom, adresse électronique ou téléphone) avant de publier."))
    if consultation.bids_deadline is None:
        errors.add("bids_deadline", _("Indiquez la date limite de remise des plis avant de publier."))
    elif consultation.bids_deadline <= moment:
        errors.add(
            "bids_deadline",
            _("La date limite de remise des plis (%(date)s) est passée : choisissez une date future.")
            % {"date": local_display(consultation.bids_deadline)},
        )
    if consultation.questions_deadline is None:
        errors.add("questions_deadline", _("Indiquez la date limite des questions avant de publier."))
    elif consultation.questions_deadline <= moment:
        errors.add(
            "questions_deadline",
            _("La date limite des questions (%(date)s) est passée : choisissez une date future.")
            % {"date": local_display(consultation.questions_deadline)},
        )
    _check_dates(errors, consultation)
    # Sealed bids: the opening commission must have k members holding a personal opening key.
    from ebourgogne.sealing.services import opening_key_problem

    key_problem = opening_key_problem(consultation)
    if key_problem:
        errors.add("commission", key_problem)
    return errors.errors


@transaction.atomic
def consultation_publish(*, acting_user: Any, consultation: Consultation, request: Any = None) -> Consultation:
    """Publish a draft: bid deadline in the future, questions deadline before it and compatible with
    R2132-6 in formalised procedures, main CPV code, object and contact given."""
    consultation = _lock(consultation)
    _require(acting_user, consultation.organisation)
    _check_transition(consultation, State.PUBLISHED)
    problems = publication_problems(consultation)
    if problems:
        raise InvalidData(problems)
    moment = clock.now()
    consultation.state = State.PUBLISHED
    consultation.published_at = moment
    with scopes_disabled():
        consultation.save(update_fields=["state", "published_at", "updated_at"])
    # The opening key: generated, split among the commission's members and erased, in this transaction.
    from ebourgogne.sealing.services import create_consultation_key

    create_consultation_key(consultation, acting_user=acting_user, request=request)
    _audit(
        "consultation.published",
        actor=acting_user,
        consultation=consultation,
        data={
            "title": consultation.title,
            "bids_deadline": _plain(consultation.bids_deadline),
            "questions_deadline": _plain(consultation.questions_deadline),
        },
        request=request,
    )
    signals.consultation_published.send(sender=Consultation, consultation=consultation)
    signals.consultation_changed.send(
        sender=Consultation, consultation=consultation, changes={"state": (State.DRAFT, State.PUBLISHED)}
    )
    return consultation


@transaction.atomic
def consultation_postpone_deadline(
    *,
    acting_user: Any,
    consultation: Consultation,
    bids_deadline: dt.datetime,
    reason: str,
    questions_deadline: dt.datetime | None = None,
    planned_opening_at: dt.datetime | None = None,
    request: Any = None,
) -> Consultation:
    """Move the bid deadline of a published consultation later (never earlier), with a reason. The
    questions deadline and the planned opening may move with it (later only)."""
    consultation = _lock(consultation)
    _require(acting_user, consultation.organisation)
    if consultation.state != State.PUBLISHED or consultation.deadline_passed:
        raise DomainError(
            _("Seule la date limite d'une consultation en cours (publiée, date limite non passée) peut être reportée."),
            code="not_postponable",
        )
    errors = _Errors()
    new_bids = _aware(errors, "bids_deadline", bids_deadline)
    new_questions = _aware(errors, "questions_deadline", questions_deadline)
    new_opening = _aware(errors, "planned_opening_at", planned_opening_at)
    text = _reason(errors, reason, required_message=_("Indiquez le motif du report."))
    if bids_deadline in (None, ""):
        errors.add("bids_deadline", _("Indiquez la nouvelle date limite de remise des plis."))
    elif new_bids is not None and new_bids <= consultation.bids_deadline:
        errors.add(
            "bids_deadline",
            _("La date limite ne peut être que reportée : choisissez une date postérieure au %(date)s.")
            % {"date": local_display(consultation.bids_deadline)},
        )
    if (
        new_questions is not None
        and consultation.questions_deadline
        and new_questions < consultation.questions_deadline
    ):
        errors.add("questions_deadline", _("La date limite des questions ne peut pas être avancée."))
    if new_opening is not None and consultation.planned_opening_at and new_opening < consultation.planned_opening_at:
        errors.add("planned_opening_at", _("L'ouverture des plis prévue ne peut pas être avancée."))
    errors.raise_if_any()
    old = {name: getattr(consultation, name) for name in DATE_FIELDS}
    consultation.bids_deadline = new_bids
    if new_questions is not None:
        consultation.questions_deadline = new_questions
    if new_opening is not None:
        consultation.planned_opening_at = new_opening
    _check_dates(errors, consultation)
    errors.raise_if_any()
    with scopes_disabled():
        consultation.save(update_fields=[*DATE_FIELDS, "updated_at"])
    changed = {
        name: (_plain(old[name]), _plain(getattr(consultation, name)))
        for name in DATE_FIELDS
        if old[name] != getattr(consultation, name)
    }
    _audit(
        "consultation.deadline_postponed",
        actor=acting_user,
        consultation=consultation,
        data={"reason": text, **{name: list(values) for name, values in changed.items()}},
        request=request,
    )
    signals.consultation_changed.send(
        sender=Consultation, consultation=consultation, changes={**changed, "reason": (None, text)}
    )
    return consultation


# --- Closing, opening, outcome, cancellation -------------------------------------------------------


@transaction.atomic
def consultation_close(*, acting_user: Any = None, consultation: Consultation, request: Any = None) -> Consultation:
    """Close a published consultation whose bid deadline has passed (the scheduler: `acting_user=None`).
    Closing before the deadline is refused: bidders have until then."""
    consultation = _lock(consultation)
    _require(acting_user, consultation.organisation, system_allowed=True)
    _check_transition(consultation, State.CLOSED)
    if not consultation.deadline_passed:
        raise DomainError(
            _("La consultation ne peut pas être clôturée avant sa date limite de remise des plis (%(date)s).")
            % {"date": local_display(consultation.bids_deadline)},
            code="deadline_not_passed",
        )
    _set_state(consultation, State.CLOSED, "closed_at", consultation.bids_deadline)
    _audit(
        "consultation.closed",
        actor=acting_user,
        consultation=consultation,
        data={"bids_deadline": _plain(consultation.bids_deadline), "by": "system" if acting_user is None else "user"},
        request=request,
    )
    _changed(consultation, State.PUBLISHED, State.CLOSED)
    return consultation


def close_due_consultations(*, now: dt.datetime | None = None) -> list[int]:
    """Close every published consultation whose bid deadline has passed; returns the ids closed here.

    Safe to run at once on several nodes: each consultation is locked and checked again before closing,
    so it is closed exactly once; one that another process closed meanwhile is skipped."""
    moment = now or clock.now()
    with scopes_disabled():
        due = list(
            Consultation.objects.filter(state=State.PUBLISHED, bids_deadline__lte=moment)
            .order_by("bids_deadline", "pk")
            .values_list("pk", flat=True)
        )
    closed = []
    for pk in due:
        try:
            with transaction.atomic():
                current = _lock(pk)
                if current.state != State.PUBLISHED or not current.deadline_passed:
                    continue
                consultation_close(acting_user=None, consultation=current)
        except DomainError:
            continue
        except OperationalError as error:
            # SQLite: another process holds the write lock longer than its busy timeout. The consultation
            # already reads as closed; the next run (a minute later) closes it.
            if "locked" not in str(error).lower():
                raise
            logger.warning("Consultation %s not closed this time (database busy); next run will", pk)
            continue
        closed.append(pk)
    return closed


@transaction.atomic
def consultation_open(
    *, acting_user: Any, consultation: Consultation, request: Any = None, permission: str = MANAGE
) -> Consultation:
    """Record the opening of the bids of a closed consultation (closed on time by the scheduler, or
    whose deadline has passed and that the scheduler has not reached yet). The opening of sealed bids
    (tenders.opening) passes permission="bids.open": commission members open without managing."""
    consultation = _lock(consultation)
    _require(acting_user, consultation.organisation, permission=permission)
    if consultation.state == State.PUBLISHED and consultation.deadline_passed:
        # The deadline has passed: close first (as the scheduler would have), then open.
        consultation_close(acting_user=None, consultation=consultation)
        consultation = _lock(consultation)
    _check_transition(consultation, State.OPENED)
    _set_state(consultation, State.OPENED, "opened_at", clock.now())
    _audit("consultation.opened", actor=acting_user, consultation=consultation, data={}, request=request)
    _changed(consultation, State.CLOSED, State.OPENED)
    return consultation


@transaction.atomic
def consultation_set_outcome(
    *, acting_user: Any, consultation: Consultation, outcome: str, reason: str = "", request: Any = None
) -> Consultation:
    """Record the outcome of an opened consultation: awarded, unsuccessful (infructueuse) or abandoned
    (sans suite). A reason is required for unsuccessful and abandoned."""
    consultation = _lock(consultation)
    _require(acting_user, consultation.organisation)
    if outcome not in OUTCOMES:
        raise InvalidData({"outcome": [_("Choisissez l'issue : attribuée, infructueuse ou sans suite.")]})
    _check_transition(consultation, outcome)
    errors = _Errors()
    if outcome == State.AWARDED:
        text = str(reason or "").strip()[:5000]
    else:
        text = _reason(errors, reason, required_message=_("Indiquez le motif de cette issue."))
    errors.raise_if_any()
    consultation.end_reason = text
    old = consultation.state
    _set_state(consultation, outcome, "ended_at", clock.now(), extra=["end_reason"])
    _audit(
        f"consultation.{outcome}",
        actor=acting_user,
        consultation=consultation,
        data={"reason": text} if text else {},
        request=request,
    )
    _changed(consultation, old, outcome, reason=text)
    return consultation


@transaction.atomic
def consultation_cancel(
    *, acting_user: Any, consultation: Consultation, reason: str, request: Any = None
) -> Consultation:
    """Cancel a published or closed consultation, with a reason shown on the public page."""
    consultation = _lock(consultation)
    _require(acting_user, consultation.organisation)
    _check_transition(consultation, State.CANCELLED)
    errors = _Errors()
    text = _reason(errors, reason, required_message=_("Indiquez le motif de l'annulation."))
    errors.raise_if_any()
    old = consultation.state
    consultation.end_reason = text
    _set_state(consultation, State.CANCELLED, "ended_at", clock.now(), extra=["end_reason"])
    _audit(
        "consultation.cancelled", actor=acting_user, consultation=consultation, data={"reason": text}, request=request
    )
    _changed(consultation, old, State.CANCELLED, reason=text)
    return consultation


@transaction.atomic
def consultation_delete_draft(*, acting_user: Any, consultation: Consultation, request: Any = None) -> None:
    """Delete a draft (never published: nothing public to keep)."""
    consultation = _lock(consultation)
    _require(acting_user, consultation.organisation)
    if consultation.state != State.DRAFT:
        raise DomainError(
            _("Seul un brouillon peut être supprimé ; une consultation publiée peut être annulée."),
            code="not_draft",
        )
    _audit(
        "consultation.draft_deleted",
        actor=acting_user,
        consultation=consultation,
        data={"title": consultation.title},
        request=request,
    )
    with scopes_disabled():
        consultation.delete()


def _set_state(
    consultation: Consultation, state: str, date_field: str, moment: dt.datetime, *, extra: list[str] | None = None
) -> None:
    consultation.state = state
    setattr(consultation, date_field, moment)
    with scopes_disabled():
        consultation.save(update_fields=["state", date_field, "updated_at", *(extra or [])])


def _changed(consultation: Consultation, old: str, new: str, *, reason: str = "") -> None:
    changes: dict[str, tuple[Any, Any]] = {"state": (str(old), str(new))}
    if reason:
        changes["end_reason"] = ("", reason)
    signals.consultation_changed.send(sender=Consultation, consultation=consultation, changes=changes)
