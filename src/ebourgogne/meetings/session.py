"""The session (séance) of a commission's meeting: opening it, the attendance, the quorum, the opening of
bids inside the session, the decisions and votes, closing it; and `session_record`, the record the
minutes (procès-verbal, meetings/minutes) are generated from.

The rules, and why:

- **Who runs the session.** The buyer's staff (`meetings.manage`) or the commission's president (a member
  seated with `is_president`). The other members of the commission see the session page (404 to anybody
  else, members of other commissions included: existence is not revealed), and type their own passphrase
  in the opening form when they are present.
- **Opening the session.** A convened meeting (state `convened`) is opened from `OPEN_TOLERANCE` before
  its start time (members arrive early; the time is the one of the convocation, not of the first
  decision); the state becomes `in_session`. The attendance is pre-filled from the convocations'
  answers (present, remote, absent, represented by the substitute; no answer = absent), and every
  current member of the commission not convened is listed as absent: the staff then record what they
  see in the room.
- **Attendance.** Present, remote, absent, represented (by a substitute linked to that titular in the
  commission, present or remote, who sits only because the titular is absent), left (mid-session, with
  the time). The quorum (meetings/quorum.py) is recomputed at each change and stored in
  `Meeting.quorum_reached`; each decision keeps the deliberative voices sitting when it was taken, so a
  member who left is not counted in what follows.
- **Without quorum** nothing is deliberated: no decision, no opening of bids (refused with a message).
  The staff close the session "without quorum"; a new meeting is prepared (`follows` = this one, the
  agenda items not decided copied, state draft, to be convened) and sits without quorum condition.
- **Opening of bids in session.** For an agenda item "opening" whose consultation's deadline has passed,
  the members present in the room holding a key share type their passphrases in one form;
  `tenders.opening.opening_start` checks them (fewer than k, a wrong one: a clear message, nothing
  stored) and starts the job; the `Opening` is linked to the item. Only members present (not remote, not
  absent, not left) may contribute: a passphrase is typed by its holder, in the room.
- **Decisions** per item, with an optional vote: for + against + abstentions cannot exceed the
  deliberative voices sitting. Companies concerned are picked among the bids opened for the item's
  consultation.
- **Closing.** State `closed` with `session_closed_at`; after that nothing of the session changes. An
  opening still running must finish first (its report is part of the record).

Every change is a function here (keyword-only, `acting_user`, audited with `log_event`, DomainError with
a French message); the views only call them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.commissions.models import CommissionMember, Seat, Voice
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.meetings import quorum as quorum_rule
from ebourgogne.meetings.models import (
    AgendaItem,
    AgendaItemKind,
    Attendance,
    AttendanceStatus,
    Convocation,
    Decision,
    DecisionKind,
    Meeting,
    MeetingState,
    Response,
)
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of
from ebourgogne.organisations.services import InvalidData

# The session may be opened from this long before the meeting's start time.
OPEN_TOLERANCE = dt.timedelta(hours=1)
TEXT_MAX = 5000
VOTES_MAX = 1000

MANAGE = "meetings.manage"
VIEW = "meetings.view"

# The convocation's answer → the attendance pre-filled when the session opens.
PREFILL = {
    Response.PRESENT: AttendanceStatus.PRESENT,
    Response.REMOTE: AttendanceStatus.REMOTE,
    Response.ABSENT: AttendanceStatus.ABSENT,
    Response.REPRESENTED: AttendanceStatus.REPRESENTED,
    Response.PENDING: AttendanceStatus.ABSENT,
}
SITTING = (AttendanceStatus.PRESENT, AttendanceStatus.REMOTE)


# --- Who may do what ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionAccess:
    """What the caller may do on a meeting's session: see it, run it (staff or president), and whether
    they are a member of the meeting's commission."""

    can_view: bool
    can_run: bool
    is_staff: bool
    is_president: bool
    seat: CommissionMember | None


def access(user: Any, meeting: Meeting) -> SessionAccess:
    if user is None or not getattr(user, "is_authenticated", False):
        return SessionAccess(False, False, False, False, None)
    organisation = meeting.organisation
    roles = roles_of(user=user, organisation=organisation) if organisation.is_active else set()
    staff = roles_grant(roles, MANAGE)
    with scopes_disabled():
        seat = CommissionMember.objects.filter(commission_id=meeting.commission_id, user=user).first()
        convened = Convocation.objects.filter(meeting=meeting, user=user, cancelled_at__isnull=True).exists()
    member = roles_grant(roles, VIEW) and (seat is not None or convened)
    president = bool(seat and seat.is_president and roles_grant(roles, VIEW))
    return SessionAccess(
        can_view=staff or member, can_run=staff or president, is_staff=staff, is_president=president, seat=seat
    )


def _require_run(user: Any, meeting: Meeting) -> SessionAccess:
    found = access(user, meeting)
    if not found.can_view:
        raise NotFound(_("Séance introuvable."))
    if not found.can_run:
        raise PermissionRefused(
            _("Seuls les agents de l'acheteur et le président de la commission conduisent la séance.")
        )
    return found


def meeting_for(*, user: Any, organisation: Any, pk: Any) -> Meeting:
    """The meeting `pk` of `organisation` if `user` may see its session; NotFound otherwise (the same
    answer for "does not exist" and "not yours")."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound(_("Séance introuvable.")) from None
    with scopes_disabled():
        meeting = (
            Meeting.objects.filter(pk=pk, organisation=organisation)
            .select_related("organisation", "commission", "follows")
            .first()
        )
    if meeting is None or not access(user, meeting).can_view:
        raise NotFound(_("Séance introuvable."))
    return meeting


def _lock(meeting: Meeting) -> Meeting:
    with scopes_disabled():
        found = (
            Meeting.objects.select_for_update(of=("self",))
            .select_related("organisation", "commission", "follows")
            .filter(pk=meeting.pk)
            .first()
        )
    if found is None:
        raise NotFound(_("Séance introuvable."))
    return found


def _require_in_session(meeting: Meeting) -> None:
    if meeting.state == MeetingState.CLOSED:
        raise DomainError(_("La séance est close : plus rien ne peut y être modifié."), code="closed")
    if meeting.state != MeetingState.IN_SESSION:
        raise DomainError(_("La séance n'est pas ouverte."), code="not_in_session")


# --- Quorum ------------------------------------------------------------------------------------------


def quorum_required(meeting: Meeting) -> bool:
    """False for a meeting convened again after a session without quorum: it sits whatever the number."""
    follows = meeting.follows
    return not (follows is not None and follows.quorum_reached is False)


def _attendances(meeting: Meeting) -> list[Attendance]:
    with scopes_disabled():
        return list(
            Attendance.objects.filter(meeting=meeting)
            .select_related("user", "member", "represented_by__user")
            .order_by("id")
        )


def _name(user: Any) -> str:
    return (getattr(user, "full_name", "") or user.email) if user is not None else ""


def attendances(meeting: Meeting) -> list[Attendance]:
    """The attendance lines of the meeting (empty before the session opens)."""
    return _attendances(meeting)


def person_name(user: Any) -> str:
    return _name(user)


def followed_by(meeting: Meeting) -> Meeting | None:
    """The meeting convened again after this one had no quorum."""
    with scopes_disabled():
        return Meeting.objects.filter(follows=meeting).first()


def _seats(attendances: list[Attendance]) -> list[quorum_rule.Seat]:
    return [
        quorum_rule.Seat(
            name=_name(row.user),
            voice=row.voice,
            seat=row.seat,
            status=row.status,
            substitute_status=row.represented_by.status if row.represented_by_id else None,
            substitute_name=_name(row.represented_by.user) if row.represented_by_id else "",
        )
        for row in attendances
    ]


def quorum_of(meeting: Meeting, attendances: list[Attendance] | None = None) -> quorum_rule.Quorum:
    rows = _attendances(meeting) if attendances is None else attendances
    return quorum_rule.compute(_seats(rows), required=quorum_required(meeting))


def _require_deliberation(meeting: Meeting) -> quorum_rule.Quorum:
    found = quorum_of(meeting)
    if not found.can_deliberate:
        raise DomainError(
            _(
                "Le quorum n'est pas atteint (%(present)s membre(s) à voix délibérative présent(s) sur "
                "%(members)s, il en faut %(needed)s) : la commission ne peut pas délibérer. Vous pouvez "
                "clore la séance sans quorum et préparer une nouvelle séance."
            )
            % {"present": found.present, "members": found.members, "needed": found.needed},
            code="no_quorum",
        )
    return found


def _store_quorum(meeting: Meeting) -> quorum_rule.Quorum:
    found = quorum_of(meeting)
    reached = found.reached
    if meeting.quorum_reached != reached:
        meeting.quorum_reached = reached
        with scopes_disabled():
            Meeting.objects.filter(pk=meeting.pk).update(quorum_reached=reached)
    return found


# --- Opening the session -----------------------------------------------------------------------------


def can_open_from(meeting: Meeting) -> dt.datetime:
    return meeting.starts_at - OPEN_TOLERANCE


def _members_on(meeting: Meeting) -> list[CommissionMember]:
    day = meeting.starts_at.astimezone(PARIS).date()
    with scopes_disabled():
        return list(
            CommissionMember.objects.filter(commission_id=meeting.commission_id)
            .filter(Q(mandate_start__isnull=True) | Q(mandate_start__lte=day))
            .filter(Q(mandate_end__isnull=True) | Q(mandate_end__gte=day))
            .select_related("user", "substitute_for")
            .order_by("-is_president", "seat", "id")
        )


@transaction.atomic
def session_open(*, acting_user: Any, meeting: Meeting, request: Any = None) -> Meeting:
    """Open the session of a convened meeting and pre-fill the attendance from the convocations."""
    _require_run(acting_user, meeting)
    meeting = _lock(meeting)
    if meeting.state == MeetingState.IN_SESSION:
        raise DomainError(_("La séance est déjà ouverte."), code="already_open")
    if meeting.state != MeetingState.CONVENED:
        raise DomainError(_("Seule une séance convoquée peut être ouverte."), code="not_convened")
    now = clock.now()
    if now < can_open_from(meeting):
        raise DomainError(
            _("La séance ne peut être ouverte qu'à partir du %(date)s (heure de Paris).")
            % {"date": can_open_from(meeting).astimezone(PARIS).strftime("%d/%m/%Y %H:%M")},
            code="too_early",
        )
    with scopes_disabled():
        convocations = list(
            Convocation.objects.filter(meeting=meeting, cancelled_at__isnull=True)
            .select_related("member", "user", "replaces")
            .order_by("id")
        )
        rows: dict[int, Attendance] = {}
        for convocation in convocations:
            status = PREFILL.get(convocation.response, AttendanceStatus.ABSENT)
            rows[convocation.user_id] = Attendance(
                meeting=meeting,
                member=convocation.member,
                user=convocation.user,
                voice=convocation.voice,
                seat=convocation.seat,
                status=status,
                arrived_at=now if status in SITTING else None,
                recorded_by=acting_user,
                recorded_at=now,
            )
        for member in _members_on(meeting):
            if member.user_id not in rows:
                rows[member.user_id] = Attendance(
                    meeting=meeting,
                    member=member,
                    user=member.user,
                    voice=member.voice,
                    seat=member.seat,
                    status=AttendanceStatus.ABSENT,
                    recorded_by=acting_user,
                    recorded_at=now,
                )
        Attendance.objects.bulk_create(rows.values())
        saved = {row.user_id: row for row in Attendance.objects.filter(meeting=meeting)}
        # A titular who answered "represented": the substitute convened in their place sits for them.
        for convocation in convocations:
            if convocation.replaces_id and convocation.replaces is not None:
                titular = saved.get(convocation.replaces.user_id)
                substitute = saved.get(convocation.user_id)
                if (
                    titular
                    and substitute
                    and titular.status == AttendanceStatus.REPRESENTED
                    and substitute.status in SITTING
                ):
                    titular.represented_by = substitute
                    titular.save(update_fields=["represented_by"])
        for row in saved.values():
            if row.status == AttendanceStatus.REPRESENTED and row.represented_by_id is None:
                # No substitute convened, or one not coming: absent until the staff record otherwise.
                row.status = AttendanceStatus.ABSENT
                row.save(update_fields=["status"])
    meeting.state = MeetingState.IN_SESSION
    meeting.session_opened_at = now
    meeting.save(update_fields=["state", "session_opened_at", "updated_at"])
    found = _store_quorum(meeting)
    log_event(
        action="meeting.session.opened",
        actor=acting_user,
        organisation=meeting.organisation,
        obj=meeting,
        data={"attendances": len(saved), "quorum": _quorum_data(found)},
        request=request,
    )
    return meeting


# --- Attendance --------------------------------------------------------------------------------------


@dataclass
class AttendanceChange:
    """One line of the attendance form: the member (user id), the status, and for "represented" the
    substitute (user id) sitting in their place."""

    user_id: int
    status: str
    substitute_id: int | None = None


@transaction.atomic
def attendance_record(
    *, acting_user: Any, meeting: Meeting, changes: list[AttendanceChange], request: Any = None
) -> quorum_rule.Quorum:
    """Record the attendance as seen in the room. Every line is checked before anything is saved; a
    refused line names the member. Returns the quorum recomputed."""
    _require_run(acting_user, meeting)
    meeting = _lock(meeting)
    _require_in_session(meeting)
    rows = {row.user_id: row for row in _attendances(meeting)}
    errors: dict[str, list[str]] = {}
    wanted: dict[int, tuple[str, int | None]] = {}
    for change in changes:
        row = rows.get(change.user_id)
        if row is None:
            raise InvalidData({"__all__": [_("Ce membre ne fait pas partie de la séance.")]})
        if change.status not in AttendanceStatus.values:
            errors[f"status-{row.pk}"] = [
                _("Choisissez une présence valide pour %(name)s.") % {"name": _name(row.user)}
            ]
            continue
        wanted[row.user_id] = (
            change.status,
            change.substitute_id if change.status == AttendanceStatus.REPRESENTED else None,
        )
    # The final picture, to check representations against it.
    final = {
        user_id: wanted.get(user_id, (row.status, row.represented_by.user_id if row.represented_by_id else None))
        for user_id, row in rows.items()
    }
    sitting_for: dict[int, int] = {}
    for user_id, (status, substitute_id) in final.items():
        row = rows[user_id]
        if status != AttendanceStatus.REPRESENTED:
            continue
        current = (row.status, row.represented_by.user_id if row.represented_by_id else None)
        if user_id not in wanted or wanted[user_id] == current:
            # Unchanged: a substitute who has left since no longer counts (quorum), nothing to refuse.
            if substitute_id:
                sitting_for[substitute_id] = user_id
            continue
        name = _name(row.user)
        key = f"status-{row.pk}"
        if row.voice != Voice.DELIBERATIVE or row.seat != Seat.TITULAR:
            errors.setdefault(key, []).append(
                _("%(name)s n'est pas membre titulaire à voix délibérative : il ne peut pas être représenté.")
                % {"name": name}
            )
            continue
        substitute = rows.get(substitute_id) if substitute_id else None
        if substitute is None:
            errors.setdefault(f"substitute-{row.pk}", []).append(
                _("Choisissez le suppléant qui siège pour %(name)s.") % {"name": name}
            )
            continue
        if (
            substitute.seat != Seat.SUBSTITUTE
            or not substitute.member
            or substitute.member.substitute_for_id != row.member_id
        ):
            errors.setdefault(f"substitute-{row.pk}", []).append(
                _("%(substitute)s n'est pas le suppléant de %(name)s dans cette commission.")
                % {"substitute": _name(substitute.user), "name": name}
            )
            continue
        if final[substitute_id][0] not in SITTING:
            errors.setdefault(f"substitute-{row.pk}", []).append(
                _("%(substitute)s doit être présent (ou à distance) pour siéger à la place de %(name)s.")
                % {"substitute": _name(substitute.user), "name": name}
            )
            continue
        if substitute_id in sitting_for:
            errors.setdefault(f"substitute-{row.pk}", []).append(
                _("%(substitute)s siège déjà pour un autre titulaire.") % {"substitute": _name(substitute.user)}
            )
            continue
        sitting_for[substitute_id] = user_id
    if errors:
        raise InvalidData(errors)
    now = clock.now()
    changed = []
    for user_id, (status, substitute_id) in wanted.items():
        row = rows[user_id]
        substitute = rows[substitute_id] if substitute_id else None
        before = (row.status, row.represented_by_id)
        after = (status, substitute.pk if substitute else None)
        if before == after:
            continue
        if status in SITTING and row.status not in SITTING:
            row.arrived_at = now
            row.left_at = None
        if status == AttendanceStatus.LEFT and row.status != AttendanceStatus.LEFT:
            row.left_at = now
        row.status = status
        row.represented_by = substitute
        row.recorded_by = acting_user
        row.recorded_at = now
        row.save(update_fields=["status", "represented_by", "arrived_at", "left_at", "recorded_by", "recorded_at"])
        changed.append(
            {
                "member": row.user.email,
                "from": before[0],
                "status": status,
                "substitute": substitute.user.email if substitute else None,
            }
        )
    found = _store_quorum(meeting)
    if changed:
        log_event(
            action="meeting.attendance.recorded",
            actor=acting_user,
            organisation=meeting.organisation,
            obj=meeting,
            data={"changes": changed, "quorum": _quorum_data(found)},
            request=request,
        )
    return found


# --- Opening of bids in session ----------------------------------------------------------------------


def _item(meeting: Meeting, item_pk: Any) -> AgendaItem:
    try:
        pk = int(item_pk)
    except (TypeError, ValueError):
        raise NotFound(_("Point de l'ordre du jour introuvable.")) from None
    with scopes_disabled():
        item = (
            AgendaItem.objects.filter(pk=pk, meeting=meeting)
            .select_related("consultation__organisation", "opening")
            .first()
        )
    if item is None:
        raise NotFound(_("Point de l'ordre du jour introuvable."))
    return item


def item_of(meeting: Meeting, item_pk: Any) -> AgendaItem:
    return _item(meeting, item_pk)


def contributors(meeting: Meeting, item: AgendaItem) -> list[Any]:
    """The people who may type a passphrase for this item's opening: holders of a share of the
    consultation's key who are present in the room (not remote, absent or gone)."""
    if item.consultation_id is None:
        return []
    from ebourgogne.tenders.opening import share_holders

    with scopes_disabled():
        present = set(
            Attendance.objects.filter(meeting=meeting, status=AttendanceStatus.PRESENT).values_list(
                "user_id", flat=True
            )
        )
        holders = share_holders(item.consultation)
    return [holder for holder in holders if holder.pk in present]


def opening_state(item: AgendaItem) -> str:
    """ "none", "running", "done" or "failed": where the item's opening stands."""
    if item.opening_id is None or item.opening is None:
        return "none"
    return item.opening.state


@transaction.atomic
def _link_opening(item: AgendaItem, opening: Any) -> None:
    with scopes_disabled():
        AgendaItem.objects.filter(pk=item.pk).update(opening=opening)
    item.opening = opening


def open_bids(
    *,
    acting_user: Any,
    meeting: Meeting,
    item: AgendaItem,
    passphrases: dict[int, str],
    request: Any = None,
) -> Any:
    """Open the bids of the item's consultation in session: `passphrases` maps a member (user id) to the
    passphrase they typed. Only members present in the room count; the rest is `tenders.opening`'s rules
    (deadline passed, at least k, each passphrase right). Nothing is stored when refused."""
    from ebourgogne.tenders.models import Opening, OpeningState
    from ebourgogne.tenders.opening import opening_start

    _require_run(acting_user, meeting)
    with scopes_disabled():
        meeting = Meeting.objects.select_related("organisation", "commission", "follows").get(pk=meeting.pk)
    _require_in_session(meeting)
    item = _item(meeting, item.pk)
    if item.kind != AgendaItemKind.OPENING or item.consultation_id is None:
        raise DomainError(_("Ce point de l'ordre du jour n'est pas une ouverture des plis."), code="invalid")
    if item.consultation.organisation_id != meeting.organisation_id:
        raise NotFound(_("Consultation introuvable."))
    if item.opening_id and item.opening.state in (OpeningState.RUNNING, OpeningState.DONE):
        raise DomainError(_("Les plis de ce point ont déjà été ouverts en séance."), code="busy")
    with scopes_disabled():
        earlier = (
            Opening.objects.filter(consultation_id=item.consultation_id, state=OpeningState.DONE, is_practice=False)
            .order_by("finished_at")
            .first()
        )
    if earlier is not None:
        raise DomainError(
            _(
                "Les plis de cette consultation ont déjà été ouverts le %(date)s, hors de cette séance : "
                "consultez le procès-verbal d'ouverture de la consultation."
            )
            % {"date": earlier.finished_at.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")},
            code="busy",
        )
    _require_deliberation(meeting)
    allowed = {user.pk: user for user in contributors(meeting, item)}
    refused = [user_id for user_id, passphrase in passphrases.items() if passphrase and user_id not in allowed]
    if refused:
        raise DomainError(
            _("Seuls les membres présents dans la salle peuvent saisir leur phrase secrète."), code="forbidden"
        )
    contributions = [(user, passphrases.get(pk, "")) for pk, user in allowed.items()]
    if not any(passphrase for _user, passphrase in contributions):
        raise DomainError(_("Aucune phrase secrète n'a été saisie."), code="invalid")
    opening = opening_start(
        acting_user=acting_user, consultation=item.consultation, contributions=contributions, request=request
    )
    _link_opening(item, opening)
    log_event(
        action="meeting.opening.started",
        actor=acting_user,
        organisation=meeting.organisation,
        obj=meeting,
        data={
            "item": item.pk,
            "consultation": item.consultation_id,
            "opening": opening.pk,
            "members": [user.email for user, passphrase in contributions if passphrase],
        },
        request=request,
    )
    return opening


def opened_companies(item: AgendaItem) -> list[dict[str, Any]]:
    """The companies whose bids were opened for the item's consultation (this item's opening, or the
    consultation's last finished one): the choices of a decision's "companies concerned"."""
    report = _opening_report(item)
    if not report:
        return []
    return [
        {"bid": bid["bid"], "name": bid["company"], "siret": bid.get("siret", ""), "number": bid.get("number")}
        for bid in report.get("opened", [])
    ]


def _opening_report(item: AgendaItem) -> dict[str, Any] | None:
    from ebourgogne.tenders.models import Opening, OpeningState

    if item.opening_id and item.opening is not None and item.opening.state == OpeningState.DONE:
        return item.opening.report
    if item.consultation_id is None:
        return None
    with scopes_disabled():
        found = (
            Opening.objects.filter(consultation_id=item.consultation_id, state=OpeningState.DONE, is_practice=False)
            .order_by("-finished_at", "-pk")
            .first()
        )
    return found.report if found else None


# --- Decisions ---------------------------------------------------------------------------------------


@dataclass
class Vote:
    votes_for: int
    votes_against: int
    abstentions: int


@transaction.atomic
def decision_record(
    *,
    acting_user: Any,
    meeting: Meeting,
    item: AgendaItem,
    kind: str,
    text: str,
    companies: list[int] | None = None,
    vote: Vote | None = None,
    request: Any = None,
) -> Decision:
    """Record a decision on an agenda item, with its vote when one was held."""
    _require_run(acting_user, meeting)
    meeting = _lock(meeting)
    _require_in_session(meeting)
    item = _item(meeting, item.pk)
    errors: dict[str, list[str]] = {}
    text = (text or "").strip()
    if not text:
        errors["text"] = [_("Écrivez la décision.")]
    elif len(text) > TEXT_MAX:
        errors["text"] = [_("La décision ne peut dépasser %(max)s caractères.") % {"max": TEXT_MAX}]
    if kind not in DecisionKind.values:
        errors["kind"] = [_("Choisissez la nature de la décision.")]
    choices = {entry["bid"]: entry for entry in opened_companies(item)}
    chosen = []
    for bid in companies or []:
        if bid not in choices:
            errors["companies"] = [_("Choisissez les entreprises parmi les plis ouverts de cette consultation.")]
            break
        chosen.append(choices[bid])
    if errors:
        raise InvalidData(errors)
    found = _require_deliberation(meeting)
    if vote is not None:
        numbers = (vote.votes_for, vote.votes_against, vote.abstentions)
        if any(number < 0 or number > VOTES_MAX for number in numbers):
            raise InvalidData({"votes_for": [_("Les nombres de voix doivent être positifs.")]})
        total = sum(numbers)
        if total == 0:
            raise InvalidData({"votes_for": [_("Indiquez le nombre de voix pour, contre et les abstentions.")]})
        if total > found.present:
            raise InvalidData(
                {
                    "votes_for": [
                        _(
                            "%(total)s voix exprimées (pour, contre et abstentions) pour %(present)s membre(s) à "
                            "voix délibérative présent(s) : il ne peut y avoir plus de voix que de votants."
                        )
                        % {"total": total, "present": found.present}
                    ]
                }
            )
    now = clock.now()
    with scopes_disabled():
        decision = Decision.objects.create(
            agenda_item=item,
            kind=kind,
            text=text,
            data={"companies": chosen, "voters": list(found.counted), "quorum": _quorum_data(found)},
            vote_held=vote is not None,
            votes_for=vote.votes_for if vote else None,
            votes_against=vote.votes_against if vote else None,
            abstentions=vote.abstentions if vote else None,
            recorded_by=acting_user,
            recorded_at=now,
        )
    log_event(
        action="meeting.decision.recorded",
        actor=acting_user,
        organisation=meeting.organisation,
        obj=meeting,
        data={
            "item": item.pk,
            "decision": decision.pk,
            "kind": kind,
            "companies": [entry["name"] for entry in chosen],
            "vote": [vote.votes_for, vote.votes_against, vote.abstentions] if vote else None,
            "voters": len(found.counted),
        },
        request=request,
    )
    return decision


# --- Closing -----------------------------------------------------------------------------------------


def _require_no_running_opening(meeting: Meeting) -> None:
    from ebourgogne.tenders.models import OpeningState

    with scopes_disabled():
        running = AgendaItem.objects.filter(meeting=meeting, opening__state=OpeningState.RUNNING).exists()
    if running:
        raise DomainError(
            _("Une ouverture des plis est en cours : attendez sa fin avant de clore la séance."), code="busy"
        )


@transaction.atomic
def session_close(*, acting_user: Any, meeting: Meeting, request: Any = None) -> Meeting:
    """Close the session: nothing of it changes afterwards; the minutes are generated from the record."""
    _require_run(acting_user, meeting)
    meeting = _lock(meeting)
    _require_in_session(meeting)
    _require_no_running_opening(meeting)
    found = _require_deliberation(meeting)
    meeting.state = MeetingState.CLOSED
    meeting.session_closed_at = clock.now()
    meeting.quorum_reached = found.reached
    meeting.save(update_fields=["state", "session_closed_at", "quorum_reached", "updated_at"])
    log_event(
        action="meeting.session.closed",
        actor=acting_user,
        organisation=meeting.organisation,
        obj=meeting,
        data={"quorum": _quorum_data(found), "without_quorum": False},
        request=request,
    )
    return meeting


@transaction.atomic
def session_close_without_quorum(
    *, acting_user: Any, meeting: Meeting, new_starts_at: dt.datetime, request: Any = None
) -> Meeting:
    """Close a session that has no quorum and prepare the new meeting (a draft, to be convened) that will
    sit without quorum condition: same commission, place and video link, the agenda items not decided.
    Returns the new meeting."""
    _require_run(acting_user, meeting)
    meeting = _lock(meeting)
    _require_in_session(meeting)
    _require_no_running_opening(meeting)
    found = quorum_of(meeting)
    if found.can_deliberate:
        raise DomainError(
            _("Le quorum est atteint : la séance peut délibérer, elle ne se clôt pas « sans quorum »."),
            code="quorum_reached",
        )
    now = clock.now()
    if new_starts_at is None or new_starts_at <= now:
        raise InvalidData({"starts_at": [_("La nouvelle séance doit avoir lieu dans le futur.")]})
    with scopes_disabled():
        if Meeting.objects.filter(follows=meeting).exists():
            raise DomainError(_("Une nouvelle séance a déjà été préparée."), code="invalid")
    meeting.state = MeetingState.CLOSED
    meeting.session_closed_at = now
    meeting.quorum_reached = False
    meeting.save(update_fields=["state", "session_closed_at", "quorum_reached", "updated_at"])
    with scopes_disabled():
        duration = (meeting.ends_at - meeting.starts_at) if meeting.ends_at else None
        follower = Meeting.objects.create(
            organisation=meeting.organisation,
            commission=meeting.commission,
            title=meeting.title,
            starts_at=new_starts_at,
            ends_at=new_starts_at + duration if duration else None,
            place=meeting.place,
            video_url=meeting.video_url,
            follows=meeting,
            created_by=acting_user,
        )
        items = list(AgendaItem.objects.filter(meeting=meeting, decisions__isnull=True).order_by("position", "id"))
        AgendaItem.objects.bulk_create(
            [
                AgendaItem(
                    meeting=follower,
                    position=position,
                    kind=item.kind,
                    title=item.title,
                    consultation_id=item.consultation_id,
                    description=item.description,
                    opening=item.opening if item.opening_id and item.opening.state == "done" else None,
                )
                for position, item in enumerate(items, start=1)
            ]
        )
    log_event(
        action="meeting.session.closed",
        actor=acting_user,
        organisation=meeting.organisation,
        obj=meeting,
        data={"quorum": _quorum_data(found), "without_quorum": True, "new_meeting": follower.pk},
        request=request,
    )
    log_event(
        action="meeting.created",
        actor=acting_user,
        organisation=meeting.organisation,
        obj=follower,
        data={"follows": meeting.pk, "items": len(items), "starts_at": new_starts_at.isoformat()},
        request=request,
    )
    return follower


# --- The record --------------------------------------------------------------------------------------


def _when(value: dt.datetime | None) -> str | None:
    return value.astimezone(PARIS).isoformat() if value else None


def _quorum_data(found: quorum_rule.Quorum) -> dict[str, Any]:
    return {
        "required": found.required,
        "members": found.members,
        "needed": found.needed,
        "present": found.present,
        "reached": found.reached,
        "can_deliberate": found.can_deliberate,
        "counted": list(found.counted),
    }


def _person(user: Any) -> dict[str, Any] | None:
    if user is None:
        return None
    return {"user": user.pk, "name": _name(user), "email": user.email}


def _opening_summary(item: AgendaItem) -> dict[str, Any] | None:
    from ebourgogne.tenders.models import OpeningState
    from ebourgogne.tenders.selectors import deposit_register

    opening = item.opening if item.opening_id else None
    if opening is None:
        return None
    report = opening.report if opening.state == OpeningState.DONE else {}
    register = deposit_register(item.consultation) if item.consultation_id else None
    return {
        "id": opening.pk,
        "state": opening.state,
        "started_at": _when(opening.started_at),
        "finished_at": _when(opening.finished_at),
        "error": opening.error or "",
        "members": [member.get("name") for member in opening.members],
        "opened": [
            {
                "bid": bid["bid"],
                "company": bid["company"],
                "siret": bid.get("siret", ""),
                "number": bid.get("number"),
                "receipt": bid.get("receipt"),
                "kind": bid.get("kind"),
                "files": len(bid.get("files", [])),
                "problems": sum(1 for entry in bid.get("files", []) if entry.get("status") != "ok"),
            }
            for bid in report.get("opened", [])
        ],
        "problems": report.get("problems", []),
        "late": [bid["company"] for bid in report.get("late", [])],
        "superseded": [bid["company"] for bid in report.get("superseded", [])],
        "register": [
            {
                "number": entry.number,
                "company": entry.company,
                "siret": entry.siret,
                "deposited_at": _when(entry.deposited_at),
                "late": entry.late,
                "superseded_by": entry.superseded_by,
                "backup": entry.backup,
                "receipt": entry.receipt_number,
                "files": entry.file_count,
                "size": entry.total_size,
            }
            for entry in (register or [])
        ],
    }


def _decision_data(decision: Decision) -> dict[str, Any]:
    data = decision.data if isinstance(decision.data, dict) else {}
    return {
        "id": decision.pk,
        "kind": decision.kind,
        "kind_label": str(DecisionKind(decision.kind).label) if decision.kind in DecisionKind.values else decision.kind,
        "text": decision.text,
        "companies": data.get("companies", []),
        "voters": data.get("voters", []),
        "vote": {
            "for": decision.votes_for,
            "against": decision.votes_against,
            "abstentions": decision.abstentions,
        }
        if decision.vote_held
        else None,
        "recorded_at": _when(decision.recorded_at),
        "recorded_by": _name(decision.recorded_by) if decision.recorded_by_id else None,
    }


def session_record(meeting: Meeting) -> dict[str, Any]:
    """Everything the minutes need, as plain JSON-serialisable data (times: ISO 8601 in Paris time, or
    None). Stable: new keys may be added, none removed or renamed without raising "version".

    {
      "version": 1,
      "meeting": {"id", "title", "state", "starts_at", "ends_at", "place", "video_url", "convened_at",
                  "is_urgent", "urgency_reason", "session_opened_at", "session_closed_at",
                  "follows": {"id", "title", "starts_at"} | None,      # this one sits without quorum
                  "followed_by": {"id", "title", "starts_at"} | None}, # the meeting convened again
      "buyer": {"id", "name"},
      "commission": {"id", "name", "kind", "kind_label"},
      "president": {"user", "name", "email"} | None,
      "attendance": [{"user", "name", "email", "voice", "voice_label", "seat", "seat_label",
                      "is_president", "status", "status_label", "arrived_at", "left_at",
                      "represented_by": {"user", "name", "email"} | None,   # on a titular's line
                      "representing": {"user", "name", "email"} | None}],   # on the substitute's line
      "quorum": {"required", "members", "needed", "present", "reached", "can_deliberate",
                 "counted": [names], "rule": text},     # as it stands at the close (or now)
      "items": [{"id", "position", "kind", "kind_label", "title", "description",
                 "consultation": {"id", "reference", "title"} | None,
                 "opening": None | {"id", "state", "started_at", "finished_at", "error",
                     "members": [names who typed a passphrase],
                     "opened": [{"bid", "company", "siret", "number", "receipt", "kind", "files", "problems"}],
                     "problems": [{"company", "name", "status", "detail"}],
                     "late": [company names], "superseded": [company names],
                     "register": [{"number", "company", "siret", "deposited_at", "late", "superseded_by",
                                   "backup", "receipt", "files", "size"}]},
                 "decisions": [{"id", "kind", "kind_label", "text",
                                "companies": [{"bid", "name", "siret", "number"}],
                                "voters": [names of the deliberative voices sitting then],
                                "vote": {"for", "against", "abstentions"} | None,
                                "recorded_at", "recorded_by"}]}],
      "annexes": [{"kind": "opening_report" | "deposit_register" | "document", "title", "item" | None,
                   "opening" (opening_report), "document", "sha256", "size" (document)}],
    }
    """
    from ebourgogne.commissions.models import CommissionKind

    with scopes_disabled():
        meeting = Meeting.objects.select_related("organisation", "commission", "follows").get(pk=meeting.pk)
        followed_by = Meeting.objects.filter(follows=meeting).first()
        attendances = _attendances(meeting)
        members = {member.user_id: member for member in CommissionMember.objects.filter(commission=meeting.commission)}
        items = list(
            AgendaItem.objects.filter(meeting=meeting)
            .select_related("consultation", "opening")
            .prefetch_related("decisions__recorded_by")
            .order_by("position", "id")
        )
        documents = list(meeting.documents.filter(removed_at__isnull=True).order_by("uploaded_at", "id"))
        found = quorum_of(meeting, attendances)
        representing = {row.represented_by_id: row for row in attendances if row.represented_by_id}
        president = next((m.user for m in members.values() if m.is_president), None)
        if president is None:
            president_row = next((row for row in attendances if row.member and row.member.is_president), None)
            president = president_row.user if president_row else None
        item_data = []
        annexes: list[dict[str, Any]] = []
        for item in items:
            opening = _opening_summary(item)
            item_data.append(
                {
                    "id": item.pk,
                    "position": item.position,
                    "kind": item.kind,
                    "kind_label": str(AgendaItemKind(item.kind).label)
                    if item.kind in AgendaItemKind.values
                    else item.kind,
                    "title": item.title,
                    "description": item.description,
                    "consultation": {
                        "id": item.consultation.pk,
                        "reference": item.consultation.reference,
                        "title": item.consultation.title,
                    }
                    if item.consultation_id
                    else None,
                    "opening": opening,
                    "decisions": [_decision_data(decision) for decision in item.decisions.all()],
                }
            )
            if opening and opening["state"] == "done":
                annexes.append(
                    {
                        "kind": "opening_report",
                        "title": _("Procès-verbal d'ouverture des plis — %(reference)s")
                        % {"reference": item.consultation.reference},
                        "item": item.pk,
                        "opening": opening["id"],
                    }
                )
                annexes.append(
                    {
                        "kind": "deposit_register",
                        "title": _("Registre des dépôts — %(reference)s") % {"reference": item.consultation.reference},
                        "item": item.pk,
                    }
                )
        for document in documents:
            annexes.append(
                {
                    "kind": "document",
                    "title": document.title,
                    "item": document.agenda_item_id,
                    "document": document.pk,
                    "sha256": document.sha256,
                    "size": document.size,
                }
            )

    def brief(other: Meeting | None) -> dict[str, Any] | None:
        return {"id": other.pk, "title": other.title, "starts_at": _when(other.starts_at)} if other else None

    attendance = []
    for row in attendances:
        seat = members.get(row.user_id)
        sitting_for = representing.get(row.pk)
        attendance.append(
            {
                **(_person(row.user) or {}),
                "voice": row.voice,
                "voice_label": str(Voice(row.voice).label) if row.voice in Voice.values else row.voice,
                "seat": row.seat,
                "seat_label": str(Seat(row.seat).label) if row.seat in Seat.values else row.seat,
                "is_president": bool(seat and seat.is_president),
                "status": row.status,
                "status_label": str(AttendanceStatus(row.status).label),
                "arrived_at": _when(row.arrived_at),
                "left_at": _when(row.left_at),
                "represented_by": _person(row.represented_by.user) if row.represented_by_id else None,
                "representing": _person(sitting_for.user) if sitting_for else None,
            }
        )
    quorum = _quorum_data(found)
    if found.required:
        quorum["rule"] = _(
            "Quorum : plus de la moitié des %(members)s membres titulaires à voix délibérative, présents, à "
            "distance ou représentés par leur suppléant, soit %(needed)s ; %(present)s présent(s)."
        ) % {"members": found.members, "needed": found.needed, "present": found.present}
    else:
        quorum["rule"] = _(
            "Séance réunie après une première séance sans quorum : la commission délibère quel que soit le "
            "nombre de membres présents (%(present)s)."
        ) % {"present": found.present}
    commission = meeting.commission
    return {
        "version": 1,
        "meeting": {
            "id": meeting.pk,
            "title": meeting.title,
            "state": meeting.state,
            "starts_at": _when(meeting.starts_at),
            "ends_at": _when(meeting.ends_at),
            "place": meeting.place,
            "video_url": meeting.video_url,
            "convened_at": _when(meeting.convened_at),
            "is_urgent": meeting.is_urgent,
            "urgency_reason": meeting.urgency_reason,
            "session_opened_at": _when(meeting.session_opened_at),
            "session_closed_at": _when(meeting.session_closed_at),
            "follows": brief(meeting.follows),
            "followed_by": brief(followed_by),
        },
        "buyer": {"id": meeting.organisation.pk, "name": meeting.organisation.name},
        "commission": {
            "id": commission.pk,
            "name": commission.name,
            "kind": commission.kind,
            "kind_label": str(CommissionKind(commission.kind).label)
            if commission.kind in CommissionKind.values
            else commission.kind,
        },
        "president": _person(president),
        "attendance": attendance,
        "quorum": quorum,
        "items": item_data,
        "annexes": annexes,
    }
