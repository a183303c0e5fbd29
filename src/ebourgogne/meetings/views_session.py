"""The session page of a meeting (/organisations/<org>/seances/<pk>/seance/) and its forms: opening the
session, the attendance, the opening of bids of an item, the decisions, closing (with or without quorum).

Thin: access through `core.access` (meetings.view) then `session.meeting_for` (the staff, or a member of
the meeting's commission; 404 to anybody else), changes through `meetings.session`; a refusal re-renders
the page with its message and the right status, what was typed kept (passphrases excepted)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_scopes import scopes_disabled

from ebourgogne.commissions.models import Seat, Voice
from ebourgogne.core.access import organisation_view
from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError, NotFound
from ebourgogne.meetings import session
from ebourgogne.meetings.models import AgendaItem, AgendaItemKind, AttendanceStatus, DecisionKind, Meeting, MeetingState
from ebourgogne.organisations.services import InvalidData

VIEW = "meetings.view"
ERROR_STATUS = {"not_found": 404, "forbidden": 403, "busy": 409, "too_early": 409, "closed": 409}


def _status(error: DomainError) -> int:
    return ERROR_STATUS.get(error.code, 400)


def _meeting(request: HttpRequest, organisation: Any, pk: int) -> Meeting:
    try:
        return session.meeting_for(user=request.user, organisation=organisation, pk=pk)
    except NotFound:
        raise Http404 from None


def session_url(meeting: Meeting) -> str:
    return reverse("meetings:session", args=[meeting.organisation.slug, meeting.pk])


def _optional_url(name: str, *args: Any) -> str | None:
    """A page of another part of the meetings app (the meeting's detail page, the list), when it exists."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- Forms -------------------------------------------------------------------------------------------


class DecisionForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Nature de la décision"), choices=DecisionKind.choices)
    text = forms.CharField(
        label=gettext_lazy("Décision"),
        max_length=session.TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    companies = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Entreprises concernées"),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("Parmi les plis ouverts de la consultation ; dans l'ordre pour un classement."),
    )
    vote_held = forms.BooleanField(label=gettext_lazy("La commission a voté"), required=False)
    votes_for = forms.IntegerField(label=gettext_lazy("Voix pour"), min_value=0, max_value=999, required=False)
    votes_against = forms.IntegerField(label=gettext_lazy("Voix contre"), min_value=0, max_value=999, required=False)
    abstentions = forms.IntegerField(label=gettext_lazy("Abstentions"), min_value=0, max_value=999, required=False)

    def __init__(self, *args: Any, companies: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if companies:
            self.fields["companies"].choices = [
                (entry["bid"], f"{entry['name']} ({_('dépôt n° %(number)s') % {'number': entry['number']}})")
                for entry in companies
            ]
        else:
            del self.fields["companies"]

    def vote(self) -> session.Vote | None:
        data = self.cleaned_data
        if not data.get("vote_held"):
            return None
        return session.Vote(data.get("votes_for") or 0, data.get("votes_against") or 0, data.get("abstentions") or 0)


class NewMeetingForm(forms.Form):
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Date et heure de la nouvelle séance (heure de Paris)"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
    )

    def clean_starts_at(self) -> dt.datetime:
        value = self.cleaned_data["starts_at"]
        if timezone.is_naive(value):
            value = value.replace(tzinfo=PARIS)
        return value


# --- The page ----------------------------------------------------------------------------------------


@dataclass
class AttendanceLine:
    row: Any
    name: str
    substitutes: list[Any]  # for a titular with a deliberative voice: the rows of their substitutes
    is_president: bool
    posted_status: str | None = None
    posted_substitute: int | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.posted_status or self.row.status

    @property
    def substitute_id(self) -> int | None:
        if self.posted_status is not None:
            return self.posted_substitute
        return self.row.represented_by.user_id if self.row.represented_by_id else None


@dataclass
class ItemPanel:
    item: AgendaItem
    opening_state: str
    contributors: list[Any]
    threshold: int | None
    deadline_passed: bool
    report: dict[str, Any] | None
    register: list[Any] | None
    decisions: list[Any]
    form: DecisionForm | None
    error: str = ""
    opening_error: str = ""
    progress: dict[str, int] | None = None
    companies: list[dict[str, Any]] = field(default_factory=list)


def _lines(
    attendances: list[Any], posted: dict[int, tuple[str, int | None]], errors: dict[str, list[str]]
) -> list[AttendanceLine]:
    by_member = {}
    for row in attendances:
        if row.member_id and row.member and row.member.substitute_for_id:
            by_member.setdefault(row.member.substitute_for_id, []).append(row)
    lines = []
    for row in attendances:
        titular = row.voice == Voice.DELIBERATIVE and row.seat == Seat.TITULAR
        status, substitute = posted.get(row.user_id, (None, None))
        lines.append(
            AttendanceLine(
                row=row,
                name=session.person_name(row.user),
                substitutes=by_member.get(row.member_id, []) if titular and row.member_id else [],
                is_president=bool(row.member and row.member.is_president),
                posted_status=status,
                posted_substitute=substitute,
                errors=errors.get(f"status-{row.pk}", []) + errors.get(f"substitute-{row.pk}", []),
            )
        )
    return lines


def _panels(
    meeting: Meeting, can_run: bool, forms_by_item: dict[int, DecisionForm], errors: dict[int, str]
) -> list[ItemPanel]:
    from ebourgogne.tenders.selectors import deposit_register

    with scopes_disabled():
        items = list(
            AgendaItem.objects.filter(meeting=meeting)
            .select_related("consultation__organisation", "consultation__opening_key", "opening")
            .prefetch_related("decisions")
            .order_by("position", "id")
        )
    panels = []
    for item in items:
        consultation = item.consultation
        is_opening = item.kind == AgendaItemKind.OPENING and consultation is not None
        companies = session.opened_companies(item) if consultation else []
        with scopes_disabled():
            register = deposit_register(consultation) if consultation and consultation.deadline_passed else None
            contributors = session.contributors(meeting, item) if is_opening else []
            decisions = list(item.decisions.all())
        form = forms_by_item.get(item.pk)
        if form is None and can_run and meeting.state == MeetingState.IN_SESSION:
            form = DecisionForm(companies=companies, auto_id=f"item{item.pk}_%s")
        panels.append(
            ItemPanel(
                item=item,
                opening_state=session.opening_state(item) if is_opening else "none",
                contributors=contributors,
                threshold=getattr(getattr(consultation, "opening_key", None), "threshold", None)
                if consultation
                else None,
                deadline_passed=bool(consultation and consultation.deadline_passed),
                report=item.opening.report if item.opening_id and item.opening.state == "done" else None,
                register=register if is_opening else None,
                decisions=decisions,
                form=form,
                error=errors.get(item.pk, ""),
                opening_error=errors.get(-item.pk, ""),
                companies=companies,
                progress=opening_progress_of(item.opening)
                if is_opening and item.opening_id and item.opening.state == "running"
                else None,
            )
        )
    return panels


def _render(
    request: HttpRequest,
    organisation: Any,
    meeting: Meeting,
    *,
    status: int = 200,
    error: str = "",
    attendance_errors: dict[str, list[str]] | None = None,
    posted_attendance: dict[int, tuple[str, int | None]] | None = None,
    decision_forms: dict[int, DecisionForm] | None = None,
    item_errors: dict[int, str] | None = None,
    new_meeting_form: NewMeetingForm | None = None,
) -> HttpResponse:
    access = session.access(request.user, meeting)
    attendances = session.attendances(meeting)
    quorum = session.quorum_of(meeting, attendances)
    running = meeting.state == MeetingState.IN_SESSION
    context = {
        "organisation": organisation,
        "meeting": meeting,
        "access": access,
        "can_run": access.can_run and running,
        "quorum": quorum,
        "lines": _lines(attendances, posted_attendance or {}, attendance_errors or {}),
        "attendance_errors": attendance_errors or {},
        "statuses": AttendanceStatus.choices,
        "panels": _panels(meeting, access.can_run, decision_forms or {}, item_errors or {}),
        "error": error,
        "opens_from": session.can_open_from(meeting),
        "new_meeting_form": new_meeting_form or NewMeetingForm(auto_id="new_%s"),
        "meeting_url": _optional_url("meetings:detail", organisation.slug, meeting.pk),
        "list_url": _optional_url("meetings:list", organisation.slug),
        "followed_by": session.followed_by(meeting),
        "minutes_url": _optional_url("meetings:minutes", organisation.slug, meeting.pk),
        "session_url": session_url(meeting),
    }
    return render(request, "meetings/session_page.html", context, status=status)


@organisation_view(VIEW)
@require_GET
def session_page(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    return _render(request, organisation, _meeting(request, organisation, pk))


@organisation_view(VIEW)
@require_POST
def session_open(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    try:
        session.session_open(acting_user=request.user, meeting=meeting, request=request)
    except DomainError as error:
        return _render(request, organisation, meeting, status=_status(error), error=str(error))
    messages.success(request, _("La séance est ouverte. Vérifiez les présences dans la salle."))
    return redirect(session_url(meeting))


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@organisation_view(VIEW)
@require_POST
def attendance(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    rows = {row.pk: row for row in session.attendances(meeting)}
    changes = []
    posted: dict[int, tuple[str, int | None]] = {}
    for row_pk, row in rows.items():
        status = request.POST.get(f"status-{row_pk}")
        if status is None:
            continue
        substitute_row = rows.get(_int(request.POST.get(f"substitute-{row_pk}")) or 0)
        substitute = substitute_row.user_id if substitute_row else None
        changes.append(session.AttendanceChange(row.user_id, status, substitute))
        posted[row.user_id] = (status, substitute)
    try:
        found = session.attendance_record(acting_user=request.user, meeting=meeting, changes=changes, request=request)
    except InvalidData as error:
        return _render(
            request,
            organisation,
            meeting,
            status=400,
            error=_("La liste des présences n'est pas enregistrée : corrigez les lignes signalées."),
            attendance_errors=error.errors,
            posted_attendance=posted,
        )
    except DomainError as error:
        return _render(request, organisation, meeting, status=_status(error), error=str(error))
    if found.can_deliberate:
        messages.success(request, _("Présences enregistrées."))
    else:
        messages.warning(request, _("Présences enregistrées. Le quorum n'est pas atteint."))
    return redirect(session_url(meeting) + "#presences")


def _item(meeting: Meeting, item_pk: int) -> AgendaItem:
    try:
        return session.item_of(meeting, item_pk)
    except NotFound:
        raise Http404 from None


@organisation_view(VIEW)
@require_POST
def open_bids(request: HttpRequest, organisation: Any, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    item = _item(meeting, item_pk)
    passphrases = {}
    for name, value in request.POST.items():
        if name.startswith("passphrase-") and value:
            user_id = _int(name.removeprefix("passphrase-"))
            if user_id is not None:
                passphrases[user_id] = value
    try:
        session.open_bids(
            acting_user=request.user, meeting=meeting, item=item, passphrases=passphrases, request=request
        )
    except DomainError as error:
        return _render(request, organisation, meeting, status=_status(error), item_errors={-item.pk: str(error)})
    messages.success(request, _("Les phrases secrètes sont justes : l'ouverture des plis a commencé."))
    return redirect(session_url(meeting) + f"#point-{item.pk}")


def opening_progress_of(opening: Any) -> dict[str, int]:
    from ebourgogne.tenders.models import BidFile, OpenedFile

    planned = opening.report.get("plan", {}).get("bids", [])
    with scopes_disabled():
        total = BidFile.objects.filter(bid_id__in=planned).count()
        done = OpenedFile.objects.filter(opening=opening).count()
    return {"total": total, "done": done, "percent": int(100 * done / total) if total else 100}


@organisation_view(VIEW)
@require_GET
def opening_progress(request: HttpRequest, organisation: Any, pk: int, item_pk: int) -> HttpResponse:
    """The progress of the item's opening (polled by htmx while it runs; once over, back to the page)."""
    meeting = _meeting(request, organisation, pk)
    item = _item(meeting, item_pk)
    running = session.opening_state(item) == "running"
    back = session_url(meeting) + f"#point-{item.pk}"
    if not running:
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = back
            return response
        return redirect(back)
    context = {
        "organisation": organisation,
        "meeting": meeting,
        "item": item,
        "progress": opening_progress_of(item.opening),
        "session_url": session_url(meeting),
    }
    return render(request, "meetings/session_progress.html", context)


@organisation_view(VIEW)
@require_POST
def decision(request: HttpRequest, organisation: Any, pk: int, item_pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    item = _item(meeting, item_pk)
    form = DecisionForm(request.POST, companies=session.opened_companies(item), auto_id=f"item{item.pk}_%s")
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            session.decision_record(
                acting_user=request.user,
                meeting=meeting,
                item=item,
                kind=data["kind"],
                text=data["text"],
                companies=data.get("companies") or [],
                vote=form.vote(),
                request=request,
            )
        except InvalidData as error:
            for name, problems in error.errors.items():
                for problem in problems:
                    form.add_error(name if name in form.fields else None, problem)
        except DomainError as error:
            form.add_error(None, str(error))
            status = _status(error)
        else:
            messages.success(request, _("Décision enregistrée."))
            return redirect(session_url(meeting) + f"#point-{item.pk}")
    return _render(request, organisation, meeting, status=status, decision_forms={item.pk: form})


@organisation_view(VIEW)
@require_POST
def close(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    try:
        session.session_close(acting_user=request.user, meeting=meeting, request=request)
    except DomainError as error:
        return _render(request, organisation, meeting, status=_status(error), error=str(error))
    messages.success(request, _("La séance est close. Le procès-verbal peut être établi."))
    return redirect(session_url(meeting))


@organisation_view(VIEW)
@require_POST
def close_without_quorum(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    form = NewMeetingForm(request.POST, auto_id="new_%s")
    if not form.is_valid():
        return _render(request, organisation, meeting, status=400, new_meeting_form=form)
    try:
        follower = session.session_close_without_quorum(
            acting_user=request.user, meeting=meeting, new_starts_at=form.cleaned_data["starts_at"], request=request
        )
    except InvalidData as error:
        for problems in error.errors.values():
            for problem in problems:
                form.add_error("starts_at", problem)
        return _render(request, organisation, meeting, status=400, new_meeting_form=form)
    except DomainError as error:
        return _render(request, organisation, meeting, status=_status(error), error=str(error))
    messages.success(
        request,
        _(
            "La séance est close sans quorum. Une nouvelle séance est préparée ; convoquez la commission : elle "
            "délibérera quel que soit le nombre de membres présents."
        ),
    )
    return redirect(_optional_url("meetings:detail", organisation.slug, follower.pk) or session_url(meeting))
