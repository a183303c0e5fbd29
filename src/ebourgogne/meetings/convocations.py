"""Convocations: sending them (e-mail in the member's language, secure link, iCalendar invitation),
updates and cancellations, the members' acknowledgements and answers, and the evidence of each step
(ConvocationEvent with an RFC 3161 token, meetings/evidence.py).

Interface used by meetings.services (signatures fixed): `convene`, `send_update`, `send_cancel`. They run
inside the caller's transaction: rows and evidence are written there, the e-mails leave after the commit
through the task queue (`meetings.tasks.send_convocation_mail`, which records each delivery attempt).

The rules, and why:

- **Who is convened.** Every member of the commission with a voice whose mandate covers the meeting's
  date (Paris calendar): titulars with a deliberative voice and members with a consultative voice.
  Substitutes are not convened at first: a substitute is convened when the titular they stand in for
  answers "represented" (CGCT: the substitute sits only in the titular's absence). The member's voice,
  seat and language are copied on the convocation (the membership may change afterwards).
- **Twice.** One convocation per member and meeting (a database constraint): convening again only
  convenes the members not convened yet (a member seated since); with nobody new it is refused with a
  message, nothing is sent twice.
- **The e-mail**, rendered in the member's language when the convocation is issued: the meeting (date and
  time in Paris time, place, video link), the agenda, the list of the documents (never attached: they are
  behind the link, for the commission's members only), the personal link, and the invitation (.ics,
  meetings/ics.py). The message is rendered once and queued as plain strings: retries send the same bytes
  the `sent` event describes (SHA-256 of the text body and of the .ics in its detail).
- **The personal link** (`/seances/lien/<token>/`) carries a token signed with the platform's secret
  (`django.core.signing`, salt `LINK_SALT`) naming the convocation. It records the opening (evidence), then
  asks the member to sign in (MFA is required of commission members) and shows the meeting; it opens
  nothing by itself. It expires `LINK_VALID_AFTER` after the end of the meeting (computed from the meeting
  as it is now, so a postponed meeting keeps its links alive). Someone else signed in is refused.
- **Updates** (time, place, agenda...) are sent to every member convened with the meeting's raised
  SEQUENCE and what changed; the member's acknowledgement is asked again (the earlier one stays in the
  evidence). **Cancellation** sends METHOD:CANCEL, same UID.
- **Answers** (present, remote, absent, represented by the substitute) can change until the session opens.
  "Represented" convenes the titular's substitutes (those linked to that titular, mandate covering the
  date, not already standing in for someone else) with their own convocation (`replaces`), e-mail and
  invitation; a substitute cannot be "represented", and a titular without a substitute is told so.
  Changing back from "represented" cancels the substitutes' convocations (METHOD:CANCEL to them).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.mail import make_msgid
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.commissions.models import CommissionMember, Seat, Voice
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.core.tasks import enqueue_on_commit
from ebourgogne.meetings import evidence, ics
from ebourgogne.meetings.models import (
    Convocation,
    ConvocationEvent,
    ConvocationEventKind,
    Meeting,
    MeetingState,
    Response,
)
from ebourgogne.notifications.services import AUTOMATIC_HEADERS, render_templated_mail

LINK_SALT = "ebourgogne.meetings.convocation-link"
LINK_VALID_AFTER = dt.timedelta(days=7)  # after the meeting's end
TEMPLATE = "meetings/email/convocation"
# Two openings of the link by the same person within this time are one opening (the sign-in round trip).
OPENING_DEDUP = dt.timedelta(minutes=10)

CHANGE_LABELS = {
    "title": gettext_lazy("Intitulé"),
    "starts_at": gettext_lazy("Date et heure"),
    "ends_at": gettext_lazy("Fin prévue"),
    "place": gettext_lazy("Lieu"),
    "video_url": gettext_lazy("Lien de visioconférence"),
    "agenda": gettext_lazy("Ordre du jour"),
    "items": gettext_lazy("Ordre du jour"),
    "documents": gettext_lazy("Documents"),
}
ANSWERS = (Response.PRESENT, Response.REMOTE, Response.ABSENT, Response.REPRESENTED)


# -- Links ---------------------------------------------------------------------------------------------


def link_token(convocation: Convocation) -> str:
    return signing.dumps({"c": convocation.pk, "u": convocation.user_id}, salt=LINK_SALT, compress=False)


def link_url(convocation: Convocation) -> str:
    return settings.BASE_URL + reverse("meetings_member:link", args=[link_token(convocation)])


def member_page_url(meeting: Meeting) -> str:
    return settings.BASE_URL + reverse("meetings_member:detail", args=[meeting.pk])


def link_expires_at(meeting: Meeting) -> dt.datetime:
    return ics.meeting_end(meeting) + LINK_VALID_AFTER


class LinkInvalid(DomainError):
    code = "link_invalid"


class LinkExpired(DomainError):
    code = "link_expired"


def read_link(token: str) -> Convocation:
    """The convocation a personal link names. Raises LinkInvalid (tampered, unknown) or LinkExpired."""
    try:
        data = signing.loads(token, salt=LINK_SALT)
        convocation_id, user_id = int(data["c"]), int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise LinkInvalid(
            _("Ce lien n'est pas valide : il est incomplet ou a été modifié. Copiez-le en entier depuis le courriel.")
        ) from None
    with scopes_disabled():
        convocation = (
            Convocation.objects.select_related("meeting", "meeting__commission", "meeting__organisation", "user")
            .filter(pk=convocation_id, user_id=user_id)
            .first()
        )
    if convocation is None:
        raise LinkInvalid(_("Ce lien ne correspond à aucune convocation."))
    if clock.now() > link_expires_at(convocation.meeting):
        raise LinkExpired(
            _(
                "Ce lien a expiré : la séance est passée. Connectez-vous à la plateforme pour retrouver vos "
                "séances dans « Mes séances »."
            )
        )
    return convocation


# -- Who is convened -------------------------------------------------------------------------------------


def meeting_day(meeting: Meeting) -> dt.date:
    return meeting.starts_at.astimezone(PARIS).date()


def mandate_covers(member: CommissionMember, day: dt.date) -> bool:
    return (member.mandate_start is None or member.mandate_start <= day) and (
        member.mandate_end is None or day <= member.mandate_end
    )


def members_to_convene(meeting: Meeting) -> list[CommissionMember]:
    """Titulars with a deliberative voice and members with a consultative voice, mandate covering the day."""
    day = meeting_day(meeting)
    members = (
        CommissionMember.objects.filter(commission_id=meeting.commission_id)
        .filter(Q(voice=Voice.CONSULTATIVE) | Q(voice=Voice.DELIBERATIVE, seat=Seat.TITULAR))
        .select_related("user")
        .order_by("-is_president", "id")
    )
    return [member for member in members if mandate_covers(member, day) and member.user.is_active]


def _language(user: Any) -> str:
    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


# -- Rendering and sending -------------------------------------------------------------------------------


def _date_text(moment: dt.datetime) -> str:
    local = moment.astimezone(PARIS)
    return _("%(day)s à %(time)s") % {
        "day": formats.date_format(local, "l j F Y"),
        "time": formats.time_format(local, "H:i"),
    }


def _change_lines(meeting: Meeting, changes: dict[str, Any] | None) -> list[str]:
    """Readable lines saying what changed, with the meeting's current values (`changes` gives the names)."""
    lines: list[str] = []
    for key in changes or {}:
        label = CHANGE_LABELS.get(key)
        if label is None:
            continue
        if key == "starts_at":
            value = _date_text(meeting.starts_at)
        elif key == "ends_at":
            value = meeting.ends_at.astimezone(PARIS).strftime("%H:%M") if meeting.ends_at else "—"
        elif key in {"place", "video_url", "title"}:
            value = getattr(meeting, key) or "—"
        else:
            value = _("modifié (voir ci-dessous)")
        line = _("%(label)s : %(value)s") % {"label": label, "value": value}
        if line not in lines:
            lines.append(line)
    return lines


def _documents(meeting: Meeting) -> list[Any]:
    return list(meeting.documents.filter(removed_at__isnull=True).order_by("uploaded_at", "id"))


def _render(convocation: Convocation, *, kind: str, changes: dict[str, Any] | None = None) -> dict[str, Any]:
    """Subject, bodies, .ics and headers of one convocation mail, in the member's language."""
    meeting = convocation.meeting
    method = "CANCEL" if kind == "cancel" else "REQUEST"
    items = list(meeting.items.order_by("position", "id"))
    language = convocation.language or settings.LANGUAGE_CODE
    now = clock.now()
    with translation.override(language), timezone.override(PARIS):
        change_lines = _change_lines(meeting, changes)
        page_url = member_page_url(meeting)
        replaces = convocation.replaces.user if convocation.replaces_id else None
        context = {
            "kind": kind,
            "meeting": meeting,
            "commission": meeting.commission,
            "organisation": meeting.organisation,
            "member": convocation.user,
            "convocation": convocation,
            "voice_label": Voice(convocation.voice).label if convocation.voice in Voice.values else convocation.voice,
            "replaces": replaces,
            "when": _date_text(meeting.starts_at),
            "ends": meeting.ends_at.astimezone(PARIS) if meeting.ends_at else None,
            "items": items,
            "documents": _documents(meeting),
            "link": link_url(convocation),
            "link_expires": _date_text(link_expires_at(meeting)),
            "page_url": page_url,
            "changes": change_lines,
        }
        rendered = render_templated_mail(template=TEMPLATE, context=context, language=language)
        calendar = ics.build(
            meeting=meeting,
            convocation=convocation,
            method=method,
            now=now,
            agenda=[item.title for item in items],
            url=page_url,
            changes=change_lines,
        )
    headers = {
        "Content-Language": language,
        "Message-ID": make_msgid(domain="e-bourgogne"),
        **AUTOMATIC_HEADERS,
    }
    return {**rendered, "ics": calendar, "method": method, "headers": headers}


SENT_KIND = {
    "convocation": ConvocationEventKind.SENT,
    "update": ConvocationEventKind.UPDATE_SENT,
    "cancel": ConvocationEventKind.CANCEL_SENT,
}


def _issue(convocation: Convocation, *, kind: str, changes: dict[str, Any] | None = None) -> None:
    """Render, record the `sent` evidence and queue the mail (after the commit)."""
    from ebourgogne.meetings.tasks import send_convocation_mail

    meeting = convocation.meeting
    mail = _render(convocation, kind=kind, changes=changes)
    now = clock.now()
    detail = {
        "sequence": meeting.sequence,
        "method": mail["method"],
        "subject": mail["subject"],
        "message_id": mail["headers"]["Message-ID"],
        "language": convocation.language,
        "text_sha256": hashlib.sha256(mail["text"].encode()).hexdigest(),
        "ics_sha256": hashlib.sha256(mail["ics"].encode()).hexdigest(),
    }
    if changes:
        detail["changes"] = sorted(changes)
    if convocation.replaces_id:
        detail["replaces"] = convocation.replaces_id
    evidence.record(convocation, SENT_KIND[kind], detail)
    convocation.sent_at = now
    convocation.sent_sequence = meeting.sequence
    update = ["sent_at", "sent_sequence"]
    if kind == "update":
        convocation.acknowledged_at = None
        update.append("acknowledged_at")
    convocation.save(update_fields=update)
    enqueue_on_commit(
        send_convocation_mail,
        convocation_id=convocation.pk,
        to=convocation.user.email,
        subject=mail["subject"],
        text=mail["text"],
        html=mail["html"],
        ics=mail["ics"],
        method=mail["method"],
        headers=mail["headers"],
        sequence=meeting.sequence,
    )


def _active(meeting: Meeting) -> list[Convocation]:
    return list(
        Convocation.objects.filter(meeting=meeting, cancelled_at__isnull=True)
        .select_related("user", "replaces__user", "meeting__commission", "meeting__organisation")
        .order_by("id")
    )


def convene(*, meeting: Meeting, acting_user: Any, request: Any = None) -> int:
    """Create the convocations of every member with a voice (titulars with a deliberative voice and
    members with a consultative voice) and send them after commit. Returns the number sent."""
    with scopes_disabled(), transaction.atomic():
        if meeting.starts_at <= clock.now():
            raise DomainError(_("La séance est déjà passée : elle ne peut plus être convoquée."), code="past")
        members = members_to_convene(meeting)
        if not members:
            raise DomainError(
                _("La commission n'a aucun membre à convoquer (titulaire ou voix consultative, mandat en cours)."),
                code="no_members",
            )
        already = set(Convocation.objects.filter(meeting=meeting).values_list("user_id", flat=True))
        fresh = [member for member in members if member.user_id not in already]
        if not fresh:
            raise DomainError(
                _("Tous les membres sont déjà convoqués à cette séance : aucune convocation n'est envoyée deux fois."),
                code="already_convened",
            )
        for member in fresh:
            convocation = Convocation.objects.create(
                meeting=meeting,
                member=member,
                user=member.user,
                voice=member.voice,
                seat=member.seat,
                language=_language(member.user),
            )
            convocation.meeting = meeting
            _issue(convocation, kind="convocation")
    return len(fresh)


def send_update(*, meeting: Meeting, acting_user: Any, changes: dict[str, Any], request: Any = None) -> int:
    """The meeting changed (time, place, agenda) after the convocation: send an update (same UID, raised
    SEQUENCE) to every convened member. `changes`: the changed fields' names as keys (title, starts_at,
    ends_at, place, video_url, agenda/items, documents); the values sent are the meeting's current ones."""
    with scopes_disabled(), transaction.atomic():
        convocations = _active(meeting)
        for convocation in convocations:
            convocation.meeting = meeting
            _issue(convocation, kind="update", changes=changes)
    return len(convocations)


def send_cancel(*, meeting: Meeting, acting_user: Any, request: Any = None) -> int:
    """The meeting is cancelled: send METHOD:CANCEL to every convened member."""
    with scopes_disabled(), transaction.atomic():
        convocations = _active(meeting)
        for convocation in convocations:
            convocation.meeting = meeting
            _issue(convocation, kind="cancel")
    return len(convocations)


# -- The member's side -----------------------------------------------------------------------------------


def record_opening(convocation: Convocation, *, signed_in: bool) -> ConvocationEvent | None:
    """The personal link was opened (before or after signing in). One event per person and sign-in state
    within OPENING_DEDUP, so the sign-in round trip and reloads do not pile up evidence."""
    now = clock.now()
    recent = ConvocationEvent.objects.filter(
        convocation=convocation, kind=ConvocationEventKind.OPENED, at__gte=now - OPENING_DEDUP
    )
    if any(bool((event.detail or {}).get("signed_in")) == signed_in for event in recent):
        return None
    with transaction.atomic():
        event = evidence.record(
            convocation,
            ConvocationEventKind.OPENED,
            {"signed_in": signed_in, "sequence": convocation.sent_sequence},
        )
        if convocation.opened_at is None:
            convocation.opened_at = now
            Convocation.objects.filter(pk=convocation.pk, opened_at__isnull=True).update(opened_at=now)
    return event


def _locked(convocation: Convocation, acting_user: Any) -> Convocation:
    if convocation.user_id != getattr(acting_user, "pk", None):
        raise NotFound(_("Convocation introuvable."))
    with scopes_disabled():
        locked = (
            Convocation.objects.select_for_update(of=("self",), no_key=True)
            .select_related("meeting", "meeting__commission", "meeting__organisation", "user", "member")
            .get(pk=convocation.pk)
        )
    if locked.cancelled_at is not None:
        raise DomainError(_("Vous n'êtes plus convoqué à cette séance."), code="cancelled")
    return locked


def _open_for_answers(meeting: Meeting) -> None:
    if meeting.state == MeetingState.CANCELLED:
        raise DomainError(_("Cette séance est annulée."), code="meeting_cancelled")
    if meeting.state != MeetingState.CONVENED:
        raise DomainError(
            _("La séance est ouverte ou close : votre présence est désormais relevée en séance."), code="closed"
        )


def convocation_acknowledge(*, convocation: Convocation, acting_user: Any, request: Any = None) -> Convocation:
    """The member acknowledges receipt of the convocation (or of its last update)."""
    with transaction.atomic():
        locked = _locked(convocation, acting_user)
        _open_for_answers(locked.meeting)
        if locked.acknowledged_at is not None:
            raise DomainError(_("Vous avez déjà accusé réception de cette convocation."), code="already")
        _acknowledge(locked, request=request)
    return locked


def _acknowledge(convocation: Convocation, *, request: Any, with_answer: bool = False) -> None:
    now = clock.now()
    evidence.record(
        convocation,
        ConvocationEventKind.ACKNOWLEDGED,
        {"sequence": convocation.sent_sequence, "with_answer": with_answer},
    )
    convocation.acknowledged_at = now
    convocation.save(update_fields=["acknowledged_at"])
    log_event(
        action="meeting.convocation.acknowledged",
        actor=convocation.user,
        organisation=convocation.meeting.organisation,
        obj=convocation.meeting,
        data={"convocation": convocation.pk, "sequence": convocation.sent_sequence},
        request=request,
    )


def available_substitutes(convocation: Convocation) -> list[CommissionMember]:
    """The substitutes who may stand in for this titular at this meeting (linked to the titular, mandate
    covering the day, not already convened to stand in for someone else)."""
    if convocation.member is None:
        return []
    day = meeting_day(convocation.meeting)
    substitutes = [
        member
        for member in CommissionMember.objects.filter(substitute_for=convocation.member, seat=Seat.SUBSTITUTE)
        .select_related("user")
        .order_by("id")
        if mandate_covers(member, day) and member.user.is_active
    ]
    busy = set(
        Convocation.objects.filter(meeting=convocation.meeting, cancelled_at__isnull=True)
        .exclude(replaces=convocation)
        .values_list("user_id", flat=True)
    )
    return [member for member in substitutes if member.user_id not in busy]


def convocation_answer(
    *, convocation: Convocation, acting_user: Any, response: str, request: Any = None
) -> list[Convocation]:
    """Record the member's answer; "represented" convenes the titular's substitutes. Returns the
    substitutes' convocations made (or reactivated) by this answer."""
    if response not in ANSWERS:
        raise DomainError(_("Choisissez une réponse : présent, à distance, absent ou représenté."), code="invalid")
    convened: list[Convocation] = []
    with transaction.atomic():
        locked = _locked(convocation, acting_user)
        meeting = locked.meeting
        _open_for_answers(meeting)
        previous = locked.response
        substitutes: list[CommissionMember] = []
        if response == Response.REPRESENTED:
            if locked.seat == Seat.SUBSTITUTE or locked.replaces_id:
                raise DomainError(
                    _("Vous êtes convoqué comme suppléant : vous ne pouvez pas vous faire représenter à votre tour."),
                    code="substitute",
                )
            substitutes = available_substitutes(locked)
            already = list(Convocation.objects.filter(replaces=locked, cancelled_at__isnull=True))
            if not substitutes and not already:
                raise DomainError(
                    _(
                        "Aucun suppléant ne peut vous représenter à cette séance (aucun suppléant ne vous est "
                        "rattaché, son mandat ne couvre pas la date, ou il remplace déjà un autre titulaire). "
                        "Répondez « absent » et prévenez le service de la commande publique."
                    ),
                    code="no_substitute",
                )
        if previous == response and response != Response.PENDING:
            return []
        now = clock.now()
        locked.response = response
        locked.responded_at = now
        locked.save(update_fields=["response", "responded_at"])
        evidence.record(
            locked,
            ConvocationEventKind.ANSWERED,
            {"response": response, "previous": previous, "sequence": locked.sent_sequence},
        )
        if locked.acknowledged_at is None:
            _acknowledge(locked, request=request, with_answer=True)
        if response == Response.REPRESENTED:
            convened = [_convene_substitute(locked, member) for member in substitutes]
        elif previous == Response.REPRESENTED:
            _release_substitutes(locked)
        log_event(
            action="meeting.convocation.answered",
            actor=locked.user,
            organisation=meeting.organisation,
            obj=meeting,
            data={
                "convocation": locked.pk,
                "response": response,
                "previous": previous,
                "substitutes": [c.user.email for c in convened],
            },
            request=request,
        )
    return convened


def _convene_substitute(titular: Convocation, member: CommissionMember) -> Convocation:
    existing = Convocation.objects.filter(meeting=titular.meeting, user=member.user).first()
    if existing is not None:  # convened before for this titular, then released: convened again
        existing.cancelled_at = None
        existing.replaces = titular
        existing.response = Response.PENDING
        existing.responded_at = None
        existing.acknowledged_at = None
        existing.save(update_fields=["cancelled_at", "replaces", "response", "responded_at", "acknowledged_at"])
        convocation = existing
    else:
        convocation = Convocation.objects.create(
            meeting=titular.meeting,
            member=member,
            user=member.user,
            voice=member.voice,
            seat=member.seat,
            replaces=titular,
            language=_language(member.user),
        )
    convocation.meeting = titular.meeting
    convocation.replaces = titular
    _issue(convocation, kind="convocation")
    return convocation


def _release_substitutes(titular: Convocation) -> None:
    """The titular no longer needs representing: the substitutes' convocations are cancelled (CANCEL sent)."""
    for convocation in Convocation.objects.filter(replaces=titular, cancelled_at__isnull=True).select_related("user"):
        convocation.meeting = titular.meeting
        _issue(convocation, kind="cancel")
        convocation.cancelled_at = clock.now()
        convocation.save(update_fields=["cancelled_at"])


# -- What the pages show ---------------------------------------------------------------------------------

DELIVERY_LABELS = {
    "not_sent": gettext_lazy("Pas encore envoyée"),
    "queued": gettext_lazy("Envoi en cours"),
    "retrying": gettext_lazy("Remise différée, nouvel essai prévu"),
    "failed": gettext_lazy("Non remise"),
    "delivered": gettext_lazy("Remise"),
}


@dataclass
class ConvocationRow:
    """One convocation as the meeting's page shows it."""

    convocation: Convocation
    delivery: str  # not_sent, queued, retrying, failed, delivered
    delivery_label: str
    error: str = ""
    next_attempt_at: str = ""
    events: list[ConvocationEvent] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.delivery == "failed"


def _delivery(events: list[ConvocationEvent]) -> tuple[str, str, str]:
    """(state, last error, next attempt) from the events of the last send (the events after the last
    sent/update_sent/cancel_sent)."""
    sends = {ConvocationEventKind.SENT, ConvocationEventKind.UPDATE_SENT, ConvocationEventKind.CANCEL_SENT}
    last = None
    for index, event in enumerate(events):
        if event.kind in sends:
            last = index
    if last is None:
        return "not_sent", "", ""
    state, error, next_at = "queued", "", ""
    for event in events[last + 1 :]:
        if event.kind == ConvocationEventKind.DELIVERED:
            state, error, next_at = "delivered", "", ""
        elif event.kind == ConvocationEventKind.DELIVERY_FAILED:
            detail = event.detail or {}
            error = detail.get("error", "")
            if detail.get("permanent"):
                state, next_at = "failed", ""
            else:
                state, next_at = "retrying", detail.get("next_attempt_at", "")
    return state, error, next_at


def delivery_state(convocation: Convocation) -> ConvocationRow:
    return _row(convocation, list(convocation.events.order_by("at", "id")))


def _row(convocation: Convocation, events: list[ConvocationEvent]) -> ConvocationRow:
    state, error, next_at = _delivery(events)
    return ConvocationRow(
        convocation=convocation,
        delivery=state,
        delivery_label=str(DELIVERY_LABELS[state]),
        error=error,
        next_attempt_at=next_at,
        events=events,
    )


def convocation_rows(meeting: Meeting) -> list[ConvocationRow]:
    """Every convocation of the meeting (cancelled ones included, last) with its delivery state, opening,
    acknowledgement and answer, and its events: what the meeting's page shows. Two queries."""
    with scopes_disabled():
        convocations = list(
            Convocation.objects.filter(meeting=meeting)
            .select_related("user", "replaces__user")
            .order_by("cancelled_at", "id")
        )
        by_convocation: dict[int, list[ConvocationEvent]] = {c.pk: [] for c in convocations}
        for event in ConvocationEvent.objects.filter(convocation__meeting=meeting).order_by("at", "id"):
            by_convocation[event.convocation_id].append(event)
    return [_row(convocation, by_convocation[convocation.pk]) for convocation in convocations]


def member_convocations(user: Any) -> tuple[list[Convocation], list[Convocation]]:
    """The signed-in person's convocations: (upcoming, past), upcoming soonest first."""
    with scopes_disabled():
        convocations = list(
            Convocation.objects.filter(user=user)
            .select_related("meeting", "meeting__commission", "meeting__organisation", "replaces__user")
            .order_by("meeting__starts_at", "id")
        )
    now = clock.now()
    upcoming, past = [], []
    for convocation in convocations:
        meeting = convocation.meeting
        finished = meeting.state in {MeetingState.CLOSED} or ics.meeting_end(meeting) < now
        (past if finished else upcoming).append(convocation)
    past.reverse()
    return upcoming, past


def member_convocation(user: Any, meeting_pk: int) -> Convocation:
    """The person's convocation to the meeting, or NotFound (not convened: the meeting is not revealed)."""
    with scopes_disabled():
        convocation = (
            Convocation.objects.filter(user=user, meeting_id=meeting_pk)
            .select_related("meeting", "meeting__commission", "meeting__organisation", "replaces__user", "member")
            .first()
        )
    if convocation is None:
        raise NotFound(_("Séance introuvable."))
    return convocation


def can_be_represented(convocation: Convocation) -> bool:
    if convocation.seat == Seat.SUBSTITUTE or convocation.replaces_id:
        return False
    with scopes_disabled():
        if Convocation.objects.filter(replaces=convocation, cancelled_at__isnull=True).exists():
            return True
        return bool(available_substitutes(convocation))


def calendar_for(convocation: Convocation) -> str:
    """The invitation as it stands now (the member's page offers it for download)."""
    meeting = convocation.meeting
    method = "CANCEL" if meeting.state == MeetingState.CANCELLED or convocation.cancelled_at else "REQUEST"
    with scopes_disabled(), translation.override(convocation.language or settings.LANGUAGE_CODE):
        items = list(meeting.items.order_by("position", "id"))
        return ics.build(
            meeting=meeting,
            convocation=convocation,
            method=method,
            now=clock.now(),
            agenda=[item.title for item in items],
            url=member_page_url(meeting),
        )


__all__ = [
    "PermissionRefused",
    "convene",
    "convocation_acknowledge",
    "convocation_answer",
    "convocation_rows",
    "delivery_state",
    "read_link",
    "record_opening",
    "send_cancel",
    "send_update",
]
