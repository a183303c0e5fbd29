"""Preparing and convening a commission's meeting: every change and its rules (permission
`meetings.manage`, the buyer's staff), each audited with `log_event` inside the change's transaction.

The rules, and why:

- **A meeting** belongs to one commission of the buyer, has a title, a start (and maybe an end) and a place
  and/or a video link: at least one, so that members know where to go. A meeting is never created or
  moved into the past (the convocation would be meaningless).
- **States.** `draft` (being prepared, nobody convened) → `convened` (convocations sent) → `in_session` →
  `closed` (meetings.session), or `cancelled` from draft or convened. Preparation (dates, place, agenda)
  is possible in draft and convened; documents also during the session; nothing after.
- **Changes after the convocation.** When a convened meeting changes in what the members' calendars hold
  (title, start, end, place, video link) or in its agenda, the iCalendar SEQUENCE is raised and an update
  is sent to every convened member (`convocations.send_update`, same UID). Moving a convened meeting
  earlier than the legal delay allows from now needs an urgency reason, as a late convocation does.
  `changes` given to `send_update` maps each changed field to `[before, after]` (datetimes as ISO 8601
  in Paris time, the agenda as a list of "position. title" lines).
- **Cancelling** needs a reason (kept, shown, audited); a convened meeting's cancellation raises the
  SEQUENCE and sends METHOD:CANCEL to the convened members (`convocations.send_cancel`).
- **Agenda.** Items of a kind (`AgendaItemKind`); opening of bids, analysis report and choice of the winner
  are about one consultation, which must be one of the buyer's (the same refusal for "does not exist"
  and "another buyer's": nothing is revealed). An opening needs a consultation published with a sealed-
  bid key (ConsultationKey) whose shares the meeting's commission holds; the same consultation is not
  opened twice in one meeting. An item with a decision or an opening is not removed.
- **Documents** for the members: streamed to disk while hashed (dce.uploads), stored in Django's default
  storage under a random name (nothing of the user's file name reaches the file system), size limited by
  `MEETINGS_DOCUMENT_MAX_BYTES` (setting, default 100 MB), SHA-256 kept and audited. Removing one hides it
  (`removed_at`) but keeps the file: it may have been read already, the record keeps it.
- **Convening** (draft → convened): the meeting has at least one agenda item, its commission at least one
  member whose mandate covers the meeting's day, its start is in the future. The latest sending time is
  computed in clear days (meetings.delays, `Commission.convocation_delay_days`); past it, the convocation
  goes only with an urgency reason, and the meeting is flagged `is_urgent` (pages, audit, convocations).
  The convocations themselves are made and sent by `convocations.convene` in the same transaction (the
  e-mails leave after commit).

Every refusal raises `DomainError` (`InvalidData` with messages per field; `NotFound` for what the caller
may not see, `PermissionRefused` for a role that does not allow it) with a translated message.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max, Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.commissions.models import Commission, CommissionMember
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.meetings import convocations, delays
from ebourgogne.meetings.models import AgendaItem, AgendaItemKind, Meeting, MeetingDocument, MeetingState
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of
from ebourgogne.organisations.services import InvalidData

MANAGE = "meetings.manage"
TITLE_MAX = 200
ITEM_TITLE_MAX = 300
PLACE_MAX = 300
VIDEO_URL_MAX = 500
TEXT_MAX = 5000
DOCUMENT_MAX_BYTES = 100 * 1024 * 1024

PREPARING = (MeetingState.DRAFT, MeetingState.CONVENED)
WITH_DOCUMENTS = (MeetingState.DRAFT, MeetingState.CONVENED, MeetingState.IN_SESSION)
# What the members' calendars hold: a change of one of these after the convocation sends an update.
CALENDAR_FIELDS = ("title", "starts_at", "ends_at", "place", "video_url")
NEEDS_CONSULTATION = (AgendaItemKind.OPENING, AgendaItemKind.ANALYSIS, AgendaItemKind.AWARD)


def document_max_bytes() -> int:
    return int(getattr(settings, "MEETINGS_DOCUMENT_MAX_BYTES", DOCUMENT_MAX_BYTES))


# --- Access ------------------------------------------------------------------------------------------


def _require(acting_user: Any, organisation: Organisation) -> None:
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    roles = roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()
    if not roles or not organisation.is_buyer:
        raise NotFound(_("Organisation introuvable."))
    if not roles_grant(roles, MANAGE):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas de préparer les séances."))


def _lock(meeting: Meeting) -> Meeting:
    with scopes_disabled():
        found = (
            Meeting.objects.select_for_update(of=("self",))
            .select_related("organisation", "commission")
            .filter(pk=meeting.pk)
            .first()
        )
    if found is None:
        raise NotFound(_("Séance introuvable."))
    return found


def _require_state(meeting: Meeting, allowed: tuple[str, ...]) -> None:
    if meeting.state in allowed:
        return
    if meeting.state == MeetingState.CANCELLED:
        raise DomainError(_("La séance est annulée : elle ne peut plus être modifiée."), code="cancelled")
    if meeting.state == MeetingState.CLOSED:
        raise DomainError(_("La séance est close : elle ne peut plus être modifiée."), code="closed")
    if meeting.state == MeetingState.IN_SESSION:
        raise DomainError(_("La séance est ouverte : sa préparation ne peut plus être modifiée."), code="in_session")
    raise DomainError(_("La séance ne peut plus être modifiée."), code="state")


def _paris(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(PARIS).isoformat() if moment else None


def _show(moment: dt.datetime) -> str:
    return date_format(moment.astimezone(PARIS), "DATETIME_FORMAT")


def _audit(action: str, *, actor: Any, meeting: Meeting, data: dict[str, Any], request: Any) -> None:
    log_event(action=action, actor=actor, organisation=meeting.organisation, obj=meeting, data=data, request=request)


# --- The meeting -------------------------------------------------------------------------------------


def _clean_text(value: Any, *, limit: int) -> str:
    return str(value or "").strip()[: limit + 1]


def _clean(data: dict[str, Any], *, check_past: bool) -> dict[str, Any]:
    """Title, times, place and video link, checked together; InvalidData with every problem at once."""
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, Any] = {}
    title = _clean_text(data.get("title"), limit=TITLE_MAX)
    if not title:
        errors["title"] = [_("Donnez un intitulé à la séance.")]
    elif len(title) > TITLE_MAX:
        errors["title"] = [_("L'intitulé ne peut pas dépasser %(max)d caractères.") % {"max": TITLE_MAX}]
    cleaned["title"] = title

    starts_at = data.get("starts_at")
    if not isinstance(starts_at, dt.datetime) or starts_at.tzinfo is None:
        errors["starts_at"] = [_("Indiquez la date et l'heure de la séance.")]
        starts_at = None
    elif check_past and starts_at <= clock.now():
        errors["starts_at"] = [
            _("La date de la séance (%(when)s) est passée : choisissez une date à venir.") % {"when": _show(starts_at)}
        ]
    cleaned["starts_at"] = starts_at

    ends_at = data.get("ends_at") or None
    if ends_at is not None and (not isinstance(ends_at, dt.datetime) or ends_at.tzinfo is None):
        errors["ends_at"] = [_("Indiquez la date et l'heure de fin prévue, ou laissez-les vides.")]
    elif ends_at is not None and starts_at is not None and ends_at <= starts_at:
        errors["ends_at"] = [_("La fin prévue doit suivre le début de la séance.")]
    cleaned["ends_at"] = ends_at

    place = _clean_text(data.get("place"), limit=PLACE_MAX)
    if len(place) > PLACE_MAX:
        errors["place"] = [_("Le lieu ne peut pas dépasser %(max)d caractères.") % {"max": PLACE_MAX}]
    cleaned["place"] = place

    video_url = _clean_text(data.get("video_url"), limit=VIDEO_URL_MAX)
    if len(video_url) > VIDEO_URL_MAX:
        errors["video_url"] = [_("Le lien ne peut pas dépasser %(max)d caractères.") % {"max": VIDEO_URL_MAX}]
    elif video_url:
        try:
            URLValidator(schemes=["https", "http"])(video_url)
        except ValidationError:
            errors["video_url"] = [_("Le lien de visioconférence doit être une adresse web complète (https://…).")]
    cleaned["video_url"] = video_url
    if not place and not video_url and "place" not in errors and "video_url" not in errors:
        errors["place"] = [_("Indiquez le lieu de la séance, un lien de visioconférence, ou les deux.")]
    if errors:
        raise InvalidData(errors)
    return cleaned


def _commission_of(organisation: Organisation, commission: Any) -> Commission:
    """The buyer's active commission `commission` (an instance or an id), or InvalidData."""
    pk = getattr(commission, "pk", commission)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = None
    if pk is not None:
        with scopes_disabled():
            found = Commission.objects.filter(organisation=organisation, pk=pk, is_active=True).first()
    if found is None:
        raise InvalidData({"commission": [_("Choisissez une commission active de l'acheteur.")]})
    return found


@transaction.atomic
def meeting_create(
    *,
    acting_user: Any,
    organisation: Organisation,
    commission: Any,
    title: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None = None,
    place: str = "",
    video_url: str = "",
    request: Any = None,
) -> Meeting:
    """A draft meeting of one of the buyer's commissions; nobody is convened yet."""
    _require(acting_user, organisation)
    data = {"title": title, "starts_at": starts_at, "ends_at": ends_at, "place": place, "video_url": video_url}
    try:
        found = _commission_of(organisation, commission)
    except InvalidData as refused:
        try:
            _clean(data, check_past=True)
        except InvalidData as more:
            refused.errors.update(more.errors)
        raise refused from None
    cleaned = _clean(data, check_past=True)
    with scopes_disabled():
        meeting = Meeting.objects.create(organisation=organisation, commission=found, created_by=acting_user, **cleaned)
    _audit(
        "meeting.created",
        actor=acting_user,
        meeting=meeting,
        data={"commission": found.pk, **editable_fields(meeting)},
        request=request,
    )
    return meeting


def editable_fields(meeting: Meeting) -> dict[str, Any]:
    """What the edit form changes, as plain data (the audit's before/after, the change sent to members)."""
    return {
        "title": meeting.title,
        "starts_at": _paris(meeting.starts_at),
        "ends_at": _paris(meeting.ends_at),
        "place": meeting.place,
        "video_url": meeting.video_url,
    }


def _clean_reason(reason: Any, *, field: str, missing: str) -> str:
    text = str(reason or "").strip()
    if not text:
        raise InvalidData({field: [missing]})
    if len(text) > TEXT_MAX:
        raise InvalidData({field: [_("Le motif ne peut pas dépasser %(max)d caractères.") % {"max": TEXT_MAX}]})
    return text


def _raise_sequence(meeting: Meeting) -> None:
    meeting.sequence += 1
    with scopes_disabled():
        Meeting.objects.filter(pk=meeting.pk).update(sequence=meeting.sequence)


@transaction.atomic
def meeting_update(
    *,
    acting_user: Any,
    meeting: Meeting,
    title: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None = None,
    place: str = "",
    video_url: str = "",
    urgency_reason: str = "",
    request: Any = None,
) -> Meeting:
    """Change a draft or convened meeting. A convened one sends an update to its members when what their
    calendars hold changed; moved closer than the legal delay allows, it needs an urgency reason."""
    _require(acting_user, meeting.organisation)
    meeting = _lock(meeting)
    _require_state(meeting, PREPARING)
    moved = starts_at != meeting.starts_at
    cleaned = _clean(
        {"title": title, "starts_at": starts_at, "ends_at": ends_at, "place": place, "video_url": video_url},
        check_past=moved,
    )
    before = editable_fields(meeting)
    newly_urgent = False
    if meeting.state == MeetingState.CONVENED and moved:
        days = meeting.commission.convocation_delay_days
        if not delays.is_in_time(clock.now(), cleaned["starts_at"], days):
            reason = str(urgency_reason or "").strip()
            if not reason:
                raise InvalidData(
                    {
                        "urgency_reason": [
                            _(
                                "À cette date, le délai de %(days)d jours francs n'est plus respecté (il fallait "
                                "convoquer au plus tard le %(latest)s) : indiquez le motif de l'urgence."
                            )
                            % {
                                "days": days,
                                "latest": _show(delays.latest_send_time(cleaned["starts_at"], days)),
                            }
                        ]
                    }
                )
            meeting.urgency_reason = _clean_reason(reason, field="urgency_reason", missing="")
            meeting.is_urgent = newly_urgent = True
    for name, value in cleaned.items():
        setattr(meeting, name, value)
    with scopes_disabled():
        meeting.save()
    after = editable_fields(meeting)
    changes = {name: [before[name], after[name]] for name in after if before[name] != after[name]}
    if not changes:
        return meeting
    sent = None
    if meeting.state == MeetingState.CONVENED:
        _raise_sequence(meeting)
        sent = convocations.send_update(meeting=meeting, acting_user=acting_user, changes=changes, request=request)
    data: dict[str, Any] = {"changes": changes, "sequence": meeting.sequence}
    if sent is not None:
        data["updates_sent"] = sent
    if newly_urgent:
        data["is_urgent"] = True
        data["urgency_reason"] = meeting.urgency_reason
    _audit("meeting.updated", actor=acting_user, meeting=meeting, data=data, request=request)
    return meeting


@transaction.atomic
def meeting_cancel(*, acting_user: Any, meeting: Meeting, reason: str, request: Any = None) -> Meeting:
    """Cancel a draft or convened meeting, with a reason; the convened members get a cancellation."""
    _require(acting_user, meeting.organisation)
    meeting = _lock(meeting)
    _require_state(meeting, PREPARING)
    text = _clean_reason(reason, field="reason", missing=_("Indiquez le motif de l'annulation."))
    was_convened = meeting.state == MeetingState.CONVENED
    meeting.state = MeetingState.CANCELLED
    meeting.cancelled_at = clock.now()
    meeting.cancel_reason = text
    if was_convened:
        meeting.sequence += 1
    with scopes_disabled():
        meeting.save(update_fields=["state", "cancelled_at", "cancel_reason", "sequence", "updated_at"])
    sent = None
    if was_convened:
        sent = convocations.send_cancel(meeting=meeting, acting_user=acting_user, request=request)
    data: dict[str, Any] = {"reason": text, "was_convened": was_convened, "sequence": meeting.sequence}
    if sent is not None:
        data["cancellations_sent"] = sent
    _audit("meeting.cancelled", actor=acting_user, meeting=meeting, data=data, request=request)
    return meeting


# --- Agenda ------------------------------------------------------------------------------------------


def _items(meeting: Meeting) -> list[AgendaItem]:
    with scopes_disabled():
        return list(AgendaItem.objects.filter(meeting=meeting).order_by("position", "id"))


def agenda_lines(meeting: Meeting) -> list[str]:
    return [f"{item.position}. {item.title}" for item in _items(meeting)]


def _consultation_of(organisation: Organisation, consultation: Any):
    """The buyer's consultation `consultation` (an instance or an id). Another buyer's consultation and
    one that does not exist get the same refusal."""
    from ebourgogne.consultations.models import Consultation

    if consultation is None or consultation == "":
        return None
    pk = getattr(consultation, "pk", consultation)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = None
    if pk is not None:
        with scopes_disabled():
            found = Consultation.objects.filter(organisation=organisation, pk=pk).first()
    if found is None:
        raise InvalidData(
            {
                "consultation": [
                    _(
                        "Cette consultation n'est pas une consultation de l'acheteur : l'ordre du jour d'une séance "
                        "ne peut porter que sur ses propres consultations."
                    )
                ]
            }
        )
    return found


def _check_opening(meeting: Meeting, consultation: Any) -> None:
    from ebourgogne.sealing.models import ConsultationKey

    with scopes_disabled():
        key = ConsultationKey.objects.filter(consultation=consultation).first()
        already = AgendaItem.objects.filter(
            meeting=meeting, kind=AgendaItemKind.OPENING, consultation=consultation
        ).exists()
    if key is None:
        raise InvalidData(
            {
                "consultation": [
                    _(
                        "La consultation %(reference)s n'a pas de clé d'ouverture des plis (elle n'a pas été publiée "
                        "avec le dépôt chiffré) : il n'y a pas de plis à ouvrir en séance."
                    )
                    % {"reference": consultation.reference}
                ]
            }
        )
    if key.commission_id and key.commission_id != meeting.commission_id:
        raise InvalidData(
            {
                "consultation": [
                    _(
                        "Les parts de la clé d'ouverture de la consultation %(reference)s sont détenues par une autre "
                        "commission (%(commission)s) : ses plis ne peuvent pas être ouverts par cette commission."
                    )
                    % {"reference": consultation.reference, "commission": key.commission.name}
                ]
            }
        )
    if already:
        raise InvalidData(
            {
                "consultation": [
                    _("L'ouverture des plis de la consultation %(reference)s figure déjà à l'ordre du jour.")
                    % {"reference": consultation.reference}
                ]
            }
        )


def _notify_agenda_change(meeting: Meeting, before: list[str], *, acting_user: Any, request: Any) -> int | None:
    """After an agenda change of a convened meeting: raise the SEQUENCE and send the update."""
    if meeting.state != MeetingState.CONVENED:
        return None
    after = agenda_lines(meeting)
    if after == before:
        return None
    _raise_sequence(meeting)
    return convocations.send_update(
        meeting=meeting, acting_user=acting_user, changes={"agenda": [before, after]}, request=request
    )


@transaction.atomic
def agenda_item_add(
    *,
    acting_user: Any,
    meeting: Meeting,
    kind: str,
    title: str = "",
    consultation: Any = None,
    description: str = "",
    request: Any = None,
) -> AgendaItem:
    """Add an item at the end of the agenda. Without a title, an item about a consultation is named after
    its kind and the consultation's reference."""
    _require(acting_user, meeting.organisation)
    meeting = _lock(meeting)
    _require_state(meeting, PREPARING)
    errors: dict[str, list[str]] = {}
    if kind not in AgendaItemKind.values:
        errors["kind"] = [_("Choisissez la nature du point dans la liste.")]
    try:
        found = _consultation_of(meeting.organisation, consultation)
    except InvalidData as refused:
        errors.update(refused.errors)
        found = None
    if found is None and kind in NEEDS_CONSULTATION and "consultation" not in errors:
        errors["consultation"] = [
            _("Ce point porte sur une consultation : choisissez-la (%(kind)s).") % {"kind": AgendaItemKind(kind).label}
        ]
    text = str(title or "").strip()
    if not text and found is not None and kind in AgendaItemKind.values:
        text = f"{AgendaItemKind(kind).label} : {found.reference} — {found.title}"[:ITEM_TITLE_MAX]
    if not text:
        errors.setdefault("title", []).append(_("Donnez un intitulé au point de l'ordre du jour."))
    elif len(text) > ITEM_TITLE_MAX:
        errors.setdefault("title", []).append(
            _("L'intitulé ne peut pas dépasser %(max)d caractères.") % {"max": ITEM_TITLE_MAX}
        )
    details = str(description or "").strip()
    if len(details) > TEXT_MAX:
        errors["description"] = [_("Les précisions ne peuvent pas dépasser %(max)d caractères.") % {"max": TEXT_MAX}]
    if errors:
        raise InvalidData(errors)
    if kind == AgendaItemKind.OPENING:
        _check_opening(meeting, found)
    before = agenda_lines(meeting)
    with scopes_disabled():
        position = (AgendaItem.objects.filter(meeting=meeting).aggregate(last=Max("position"))["last"] or 0) + 1
        item = AgendaItem.objects.create(
            meeting=meeting, position=position, kind=kind, title=text, consultation=found, description=details
        )
    sent = _notify_agenda_change(meeting, before, acting_user=acting_user, request=request)
    _audit(
        "meeting.agenda.added",
        actor=acting_user,
        meeting=meeting,
        data={
            "item": item.pk,
            "position": position,
            "kind": kind,
            "title": text,
            "consultation": found.pk if found else None,
            **({"updates_sent": sent} if sent is not None else {}),
        },
        request=request,
    )
    return item


def _item_of(meeting: Meeting, item: Any) -> AgendaItem:
    pk = getattr(item, "pk", item)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    found = None
    if pk is not None:
        with scopes_disabled():
            found = AgendaItem.objects.filter(meeting=meeting, pk=pk).select_related("consultation").first()
    if found is None:
        raise NotFound(_("Ce point ne figure pas à l'ordre du jour de la séance."))
    return found


def _renumber(meeting: Meeting, ordered: list[AgendaItem]) -> None:
    with scopes_disabled():
        for position, item in enumerate(ordered, start=1):
            if item.position != position:
                item.position = position
                AgendaItem.objects.filter(pk=item.pk).update(position=position)


@transaction.atomic
def agenda_item_remove(*, acting_user: Any, meeting: Meeting, item: Any, request: Any = None) -> None:
    _require(acting_user, meeting.organisation)
    meeting = _lock(meeting)
    _require_state(meeting, PREPARING)
    found = _item_of(meeting, item)
    with scopes_disabled():
        decided = found.decisions.exists() or found.opening_id is not None
    if decided:
        raise DomainError(
            _("Ce point a déjà fait l'objet d'une décision ou d'une ouverture des plis : il reste à l'ordre du jour."),
            code="decided",
        )
    before = agenda_lines(meeting)
    with scopes_disabled():
        MeetingDocument.objects.filter(agenda_item=found).update(agenda_item=None)
        found.delete()
    _renumber(meeting, _items(meeting))
    sent = _notify_agenda_change(meeting, before, acting_user=acting_user, request=request)
    _audit(
        "meeting.agenda.removed",
        actor=acting_user,
        meeting=meeting,
        data={
            "item": found.pk,
            "title": found.title,
            **({"updates_sent": sent} if sent is not None else {}),
        },
        request=request,
    )


@transaction.atomic
def agenda_item_move(
    *, acting_user: Any, meeting: Meeting, item: Any, direction: str, request: Any = None
) -> AgendaItem:
    """Move an item one place up or down the agenda (`direction` "up" or "down")."""
    _require(acting_user, meeting.organisation)
    meeting = _lock(meeting)
    _require_state(meeting, PREPARING)
    found = _item_of(meeting, item)
    if direction not in ("up", "down"):
        raise DomainError(_("Choisissez de monter ou de descendre le point."), code="direction")
    ordered = _items(meeting)
    index = next(i for i, other in enumerate(ordered) if other.pk == found.pk)
    target = index - 1 if direction == "up" else index + 1
    if not 0 <= target < len(ordered):
        raise DomainError(
            _("Ce point est déjà le premier de l'ordre du jour.")
            if direction == "up"
            else _("Ce point est déjà le dernier de l'ordre du jour."),
            code="edge",
        )
    before = agenda_lines(meeting)
    ordered[index], ordered[target] = ordered[target], ordered[index]
    _renumber(meeting, ordered)
    sent = _notify_agenda_change(meeting, before, acting_user=acting_user, request=request)
    _audit(
        "meeting.agenda.moved",
        actor=acting_user,
        meeting=meeting,
        data={
            "item": found.pk,
            "title": found.title,
            "position": target + 1,
            **({"updates_sent": sent} if sent is not None else {}),
        },
        request=request,
    )
    found.position = target + 1
    return found


# --- Documents ---------------------------------------------------------------------------------------


def _storage_name(meeting: Meeting) -> str:
    """Generated; nothing from the user's file name reaches the file system, and it cannot be guessed."""
    return f"meetings/{meeting.pk}/{secrets.token_hex(16)}"


@transaction.atomic
def document_add(
    *,
    acting_user: Any,
    meeting: Meeting,
    uploaded: Any,
    title: str = "",
    agenda_item: Any = None,
    request: Any = None,
) -> MeetingDocument:
    """Store a document for the members of the meeting's commission (see the module docstring)."""
    from ebourgogne.dce.services import human_size
    from ebourgogne.dce.uploads import check_file_name, content_type_of, sha256_of

    _require(acting_user, meeting.organisation)
    meeting = _lock(meeting)
    _require_state(meeting, WITH_DOCUMENTS)
    if uploaded is None:
        raise InvalidData({"file": [_("Choisissez un fichier à déposer.")]})
    try:
        file_name = check_file_name(getattr(uploaded, "name", ""))
    except DomainError as refused:
        raise InvalidData({"file": [str(refused.message)]}) from None
    size = int(getattr(uploaded, "size", 0) or 0)
    limit = document_max_bytes()
    if size <= 0:
        raise InvalidData(
            {
                "file": [
                    _("Le fichier « %(name)s » est vide : déposez un fichier qui a un contenu.") % {"name": file_name}
                ]
            }
        )
    if size > limit:
        raise DomainError(
            _("Le fichier « %(name)s » (%(size)s) dépasse la taille permise pour un document de séance (%(limit)s).")
            % {"name": file_name, "size": human_size(size), "limit": human_size(limit)},
            code="too_large",
        )
    text = str(title or "").strip() or file_name
    if len(text) > ITEM_TITLE_MAX:
        raise InvalidData({"title": [_("Le titre ne peut pas dépasser %(max)d caractères.") % {"max": ITEM_TITLE_MAX}]})
    item = _item_of(meeting, agenda_item) if agenda_item not in (None, "") else None
    sha256 = sha256_of(uploaded)
    storage_name = default_storage.save(_storage_name(meeting), uploaded)
    try:
        with scopes_disabled():
            document = MeetingDocument.objects.create(
                meeting=meeting,
                agenda_item=item,
                title=text,
                original_name=file_name,
                storage_name=storage_name,
                content_type=content_type_of(file_name, getattr(uploaded, "content_type", None)),
                size=size,
                sha256=sha256,
                uploaded_by=acting_user,
                uploaded_at=clock.now(),
            )
        _audit(
            "meeting.document.added",
            actor=acting_user,
            meeting=meeting,
            data={
                "document": document.pk,
                "title": text,
                "file": file_name,
                "size": size,
                "sha256": sha256,
                "item": item.pk if item else None,
            },
            request=request,
        )
    except BaseException:
        default_storage.delete(storage_name)
        raise
    return document


@transaction.atomic
def document_remove(*, acting_user: Any, meeting: Meeting, document: Any, request: Any = None) -> None:
    """Hide a document from the members; the file and its hash stay in the record."""
    _require(acting_user, meeting.organisation)
    meeting = _lock(meeting)
    _require_state(meeting, WITH_DOCUMENTS)
    pk = getattr(document, "pk", document)
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        pk = None
    with scopes_disabled():
        found = (
            MeetingDocument.objects.filter(meeting=meeting, pk=pk, removed_at__isnull=True).first()
            if pk is not None
            else None
        )
    if found is None:
        raise NotFound(_("Ce document ne fait pas partie des documents de la séance."))
    found.removed_at = clock.now()
    with scopes_disabled():
        found.save(update_fields=["removed_at"])
    _audit(
        "meeting.document.removed",
        actor=acting_user,
        meeting=meeting,
        data={"document": found.pk, "title": found.title, "sha256": found.sha256},
        request=request,
    )


# --- Convening ---------------------------------------------------------------------------------------


def members_on(commission: Commission, day: dt.date) -> list[CommissionMember]:
    """The commission's members whose mandate covers `day` (no dates: always)."""
    with scopes_disabled():
        return list(
            CommissionMember.objects.filter(commission=commission)
            .filter(Q(mandate_start__isnull=True) | Q(mandate_start__lte=day))
            .filter(Q(mandate_end__isnull=True) | Q(mandate_end__gte=day))
            .select_related("user")
            .order_by("-is_president", "seat", "id")
        )


def convocation_deadline(meeting: Meeting) -> dt.datetime:
    """The latest time to send the convocation of `meeting` (23:59:59 Paris time, meetings.delays)."""
    return delays.latest_send_time(meeting.starts_at, meeting.commission.convocation_delay_days)


def is_late(meeting: Meeting, *, at: dt.datetime | None = None) -> bool:
    """Would a convocation sent now (or `at`) miss the legal delay?"""
    return not delays.is_in_time(at or clock.now(), meeting.starts_at, meeting.commission.convocation_delay_days)


@transaction.atomic
def meeting_convene(*, acting_user: Any, meeting: Meeting, urgency_reason: str = "", request: Any = None) -> Meeting:
    """Convene the commission: draft → convened, then `convocations.convene` sends the convocations."""
    _require(acting_user, meeting.organisation)
    meeting = _lock(meeting)
    if meeting.state == MeetingState.CONVENED:
        raise DomainError(_("La commission est déjà convoquée à cette séance."), code="already_convened")
    _require_state(meeting, (MeetingState.DRAFT,))
    now = clock.now()
    if meeting.starts_at <= now:
        raise DomainError(
            _("La date de la séance (%(when)s) est passée : modifiez-la avant de convoquer la commission.")
            % {"when": _show(meeting.starts_at)},
            code="past",
        )
    with scopes_disabled():
        has_items = AgendaItem.objects.filter(meeting=meeting).exists()
    if not has_items:
        raise DomainError(
            _("L'ordre du jour est vide : ajoutez au moins un point avant de convoquer la commission."),
            code="no_agenda",
        )
    commission = meeting.commission
    if not members_on(commission, meeting.starts_at.astimezone(PARIS).date()):
        raise DomainError(
            _(
                "La commission « %(name)s » n'a aucun membre en fonction à la date de la séance : ajoutez ses "
                "membres avant de la convoquer."
            )
            % {"name": commission.name},
            code="no_member",
        )
    days = commission.convocation_delay_days
    latest = delays.latest_send_time(meeting.starts_at, days)
    urgent = not delays.is_in_time(now, meeting.starts_at, days)
    reason = ""
    if urgent:
        reason = str(urgency_reason or "").strip()
        if not reason:
            raise InvalidData(
                {
                    "urgency_reason": [
                        _(
                            "Le délai de convocation de %(days)d jours francs n'est plus respecté (il fallait convoquer "
                            "au plus tard le %(latest)s) : convoquez en urgence en indiquant le motif, ou déplacez la "
                            "séance."
                        )
                        % {"days": days, "latest": _show(latest)}
                    ]
                }
            )
        reason = _clean_reason(reason, field="urgency_reason", missing="")
    meeting.state = MeetingState.CONVENED
    meeting.convened_at = now
    meeting.is_urgent = urgent
    meeting.urgency_reason = reason
    with scopes_disabled():
        meeting.save(update_fields=["state", "convened_at", "is_urgent", "urgency_reason", "updated_at"])
    sent = convocations.convene(meeting=meeting, acting_user=acting_user, request=request)
    _audit(
        "meeting.convened",
        actor=acting_user,
        meeting=meeting,
        data={
            "starts_at": _paris(meeting.starts_at),
            "delay_days": days,
            "latest_send": _paris(latest),
            "clear_days": delays.clear_days_between(now, meeting.starts_at),
            "is_urgent": urgent,
            "urgency_reason": reason,
            "convocations": sent,
            "sequence": meeting.sequence,
        },
        request=request,
    )
    return meeting
