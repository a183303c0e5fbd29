"""Preparing and convening a buyer's meetings of commissions. Thin: access through `core.access`, reads
through `selectors` (a meeting the caller may not see answers 404, like one that does not exist),
changes through `services`; a refusal becomes a message on the page with the right status."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ebourgogne.core import clock
from ebourgogne.core.access import organisation_view
from ebourgogne.core.errors import DomainError
from ebourgogne.meetings import forms, selectors, services
from ebourgogne.meetings.models import Meeting, MeetingState, Response
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import PERMISSIONS, roles_grant

ERROR_STATUS = {"not_found": 404, "forbidden": 403, "too_large": 413}


def _status(error: DomainError) -> int:
    return ERROR_STATUS.get(error.code, 400)


def _buyer_only(organisation: Organisation) -> None:
    if not organisation.is_buyer:
        raise Http404


def _meeting(request: HttpRequest, organisation: Organisation, pk: Any) -> Meeting:
    _buyer_only(organisation)
    meeting = selectors.meeting_for(user=request.user, organisation=organisation, pk=pk)
    if meeting is None:
        raise Http404
    return meeting


def _optional_url(name: str, *args: Any) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return ""


def _detail_url(meeting: Meeting) -> str:
    return reverse("meetings:detail", args=[meeting.organisation.slug, meeting.pk])


def _context(request: HttpRequest, organisation: Organisation, **extra: Any) -> dict[str, Any]:
    roles = getattr(request, "organisation_roles", set())
    return {
        "organisation": organisation,
        "can": {name.replace(".", "_"): roles_grant(roles, name) for name in PERMISSIONS},
        "can_manage": roles_grant(roles, selectors.MANAGE),
        **extra,
    }


def _meeting_context(request: HttpRequest, organisation: Organisation, meeting: Meeting, **extra: Any):
    now = clock.now()
    preparing = meeting.state in services.PREPARING
    return _context(
        request,
        organisation,
        meeting=meeting,
        preparing=preparing,
        is_draft=meeting.state == MeetingState.DRAFT,
        latest_send=services.convocation_deadline(meeting),
        late=services.is_late(meeting, at=now) if meeting.state == MeetingState.DRAFT else False,
        in_past=meeting.starts_at <= now,
        **extra,
    )


# --- List and creation ------------------------------------------------------------------------------


@organisation_view("meetings.view")
@require_GET
def meeting_list(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    _buyer_only(organisation)
    lists = selectors.meeting_lists(user=request.user, organisation=organisation)
    return render(request, "meetings/list.html", _context(request, organisation, lists=lists))


@organisation_view("meetings.manage")
@require_http_methods(["GET", "POST"])
def meeting_create(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    _buyer_only(organisation)
    commissions = selectors.commissions_for_meetings(organisation=organisation)
    status = 200
    if request.method == "POST":
        form = forms.MeetingForm(request.POST, commissions=commissions)
        status = 400
        if form.is_valid():
            try:
                meeting = services.meeting_create(
                    acting_user=request.user, organisation=organisation, request=request, **form.service_data()
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
                status = _status(error)
            else:
                messages.success(
                    request,
                    _("La séance « %(title)s » est créée. Préparez son ordre du jour, puis convoquez la commission.")
                    % {"title": meeting.title},
                )
                return redirect(_detail_url(meeting))
    else:
        initial: dict[str, Any] = {}
        wanted = request.GET.get("commission")
        if wanted and any(str(c.pk) == wanted for c in commissions):
            initial["commission"] = int(wanted)
        elif len(commissions) == 1:
            initial["commission"] = commissions[0].pk
        form = forms.MeetingForm(initial=initial, commissions=commissions)
    return render(
        request,
        "meetings/form.html",
        _context(request, organisation, form=form, commissions=commissions, creating=True),
        status=status,
    )


# --- One meeting ------------------------------------------------------------------------------------


@organisation_view("meetings.view")
@require_GET
def meeting_detail(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    summary = selectors.convocation_summary(meeting)
    context = _meeting_context(
        request,
        organisation,
        meeting,
        items=selectors.agenda_of(meeting),
        documents=selectors.documents_of(meeting),
        summary=summary,
        responses=[
            (label, summary.by_response.get(value, 0)) for value, label in Response.choices if value != "pending"
        ],
        session_url=_optional_url("meetings:session", organisation.slug, meeting.pk),
        minutes_url=_optional_url("meetings:minutes", organisation.slug, meeting.pk),
    )
    return render(request, "meetings/detail.html", context)


@organisation_view("meetings.manage")
@require_http_methods(["GET", "POST"])
def meeting_edit(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    convened = meeting.state == MeetingState.CONVENED
    status = 200
    if request.method == "POST":
        form = forms.MeetingForm(request.POST, convened=convened)
        status = 400
        if meeting.state not in services.PREPARING:
            form.is_valid()
            forms.add_service_errors(form, DomainError(_("La séance ne peut plus être modifiée.")))
        elif form.is_valid():
            try:
                meeting = services.meeting_update(
                    acting_user=request.user, meeting=meeting, request=request, **form.service_data()
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
                status = _status(error)
            else:
                if convened:
                    messages.success(
                        request,
                        _("La séance est modifiée ; les membres convoqués reçoivent la modification par courriel."),
                    )
                else:
                    messages.success(request, _("La séance est modifiée."))
                return redirect(_detail_url(meeting))
    else:
        form = forms.MeetingForm(initial=forms.meeting_initial(meeting), convened=convened)
    return render(
        request,
        "meetings/form.html",
        _meeting_context(request, organisation, meeting, form=form, creating=False, convened=convened),
        status=status,
    )


@organisation_view("meetings.manage")
@require_http_methods(["GET", "POST"])
def meeting_cancel(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    status = 200
    if request.method == "POST":
        form = forms.CancelForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                meeting = services.meeting_cancel(
                    acting_user=request.user, meeting=meeting, reason=form.cleaned_data["reason"], request=request
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
                status = _status(error)
            else:
                messages.success(request, _("La séance est annulée."))
                return redirect(_detail_url(meeting))
    else:
        form = forms.CancelForm()
    return render(
        request, "meetings/cancel.html", _meeting_context(request, organisation, meeting, form=form), status=status
    )


# --- Agenda -----------------------------------------------------------------------------------------


def _agenda_page(request, organisation, meeting, *, form=None, status=200):
    consultations = selectors.consultations_for_agenda(organisation=organisation)
    form = form or forms.AgendaItemForm(consultations=consultations, auto_id="item_%s")
    return render(
        request,
        "meetings/agenda.html",
        _meeting_context(request, organisation, meeting, items=selectors.agenda_of(meeting), form=form),
        status=status,
    )


@organisation_view("meetings.manage")
@require_GET
def agenda(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    return _agenda_page(request, organisation, _meeting(request, organisation, pk))


@organisation_view("meetings.manage")
@require_POST
def agenda_add(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    consultations = selectors.consultations_for_agenda(organisation=organisation)
    form = forms.AgendaItemForm(request.POST, consultations=consultations, auto_id="item_%s")
    status = 400
    if form.is_valid():
        try:
            item = services.agenda_item_add(
                acting_user=request.user, meeting=meeting, request=request, **form.cleaned_data
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        else:
            messages.success(request, _("Le point « %(title)s » est ajouté à l'ordre du jour.") % {"title": item.title})
            return redirect("meetings:agenda", org_slug=organisation.slug, pk=meeting.pk)
    return _agenda_page(request, organisation, meeting, form=form, status=status)


def _agenda_change(request, organisation, pk, change) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    try:
        message = change(meeting)
    except DomainError as error:
        if error.code == "not_found":
            raise Http404 from None
        messages.error(request, error.message)
        return _agenda_page(request, organisation, meeting, status=_status(error))
    messages.success(request, message)
    return redirect("meetings:agenda", org_slug=organisation.slug, pk=meeting.pk)


@organisation_view("meetings.manage")
@require_POST
def agenda_remove(request: HttpRequest, organisation: Organisation, pk: int, item_pk: int) -> HttpResponse:
    def change(meeting):
        services.agenda_item_remove(acting_user=request.user, meeting=meeting, item=item_pk, request=request)
        return _("Le point est retiré de l'ordre du jour.")

    return _agenda_change(request, organisation, pk, change)


@organisation_view("meetings.manage")
@require_POST
def agenda_move(request: HttpRequest, organisation: Organisation, pk: int, item_pk: int) -> HttpResponse:
    def change(meeting):
        services.agenda_item_move(
            acting_user=request.user,
            meeting=meeting,
            item=item_pk,
            direction=request.POST.get("direction", ""),
            request=request,
        )
        return _("L'ordre du jour est modifié.")

    return _agenda_change(request, organisation, pk, change)


# --- Documents --------------------------------------------------------------------------------------


def _documents_page(request, organisation, meeting, *, form=None, status=200):
    from ebourgogne.dce.services import human_size

    items = selectors.agenda_of(meeting)
    form = form or forms.DocumentForm(items=items, max_size=human_size(services.document_max_bytes()), auto_id="doc_%s")
    return render(
        request,
        "meetings/documents.html",
        _meeting_context(
            request,
            organisation,
            meeting,
            documents=selectors.documents_of(meeting),
            form=form,
            accepts_documents=meeting.state in services.WITH_DOCUMENTS,
        ),
        status=status,
    )


@organisation_view("meetings.manage")
@require_GET
def documents(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    return _documents_page(request, organisation, _meeting(request, organisation, pk))


@csrf_protect
def _receive_document(request, organisation, meeting, handler) -> HttpResponse:
    from ebourgogne.dce.services import human_size

    items = selectors.agenda_of(meeting)
    max_size = human_size(services.document_max_bytes())
    try:
        post, uploaded = request.POST, request.FILES.get("file")
    except (RequestDataTooBig, TooManyFieldsSent, SuspiciousOperation):
        post, uploaded = None, None
    form = forms.DocumentForm(post, items=items, max_size=max_size, auto_id="doc_%s")
    status = 400
    if post is None:
        form.is_valid()
        form.add_error(None, _("La requête est trop volumineuse ou mal formée : déposez un seul fichier à la fois."))
    elif handler.too_large:
        form.is_valid()
        form.add_error(
            "file",
            _(
                "Le fichier dépasse la taille permise pour un document de séance (%(limit)s) : il n'a pas été enregistré."
            )
            % {"limit": max_size},
        )
        status = 413
    elif form.is_valid():
        try:
            document = services.document_add(
                acting_user=request.user,
                meeting=meeting,
                uploaded=uploaded,
                title=form.cleaned_data["title"],
                agenda_item=form.cleaned_data["agenda_item"],
                request=request,
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        else:
            messages.success(
                request,
                _("Le document « %(title)s » est déposé (%(size)s).")
                % {"title": document.title, "size": human_size(document.size)},
            )
            return redirect("meetings:documents", org_slug=organisation.slug, pk=meeting.pk)
        finally:
            if uploaded is not None:
                uploaded.close()
    return _documents_page(request, organisation, meeting, form=form, status=status)


@csrf_exempt  # the CSRF check runs in _receive_document, once our upload handler is in place
@organisation_view("meetings.manage")
@require_POST
def document_add(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    from ebourgogne.dce.uploads import DceUploadHandler

    meeting = _meeting(request, organisation, pk)
    handler = DceUploadHandler(request, max_bytes=services.document_max_bytes())
    request.upload_handlers = [handler]
    return _receive_document(request, organisation, meeting, handler)


@organisation_view("meetings.manage")
@require_POST
def document_remove(request: HttpRequest, organisation: Organisation, pk: int, document_pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    try:
        services.document_remove(acting_user=request.user, meeting=meeting, document=document_pk, request=request)
    except DomainError as error:
        if error.code == "not_found":
            raise Http404 from None
        messages.error(request, error.message)
        return _documents_page(request, organisation, meeting, status=_status(error))
    messages.success(request, _("Le document est retiré : les membres ne le voient plus."))
    return redirect("meetings:documents", org_slug=organisation.slug, pk=meeting.pk)


@organisation_view("meetings.view")
@require_http_methods(["GET", "HEAD"])
def document_download(request: HttpRequest, organisation: Organisation, pk: int, document_pk: int) -> HttpResponse:
    """The file, as an attachment, to the people who may see the meeting (its commission's members and
    the buyer's staff); 404 to anybody else. Never cached by shared caches."""
    from ebourgogne.dce.serving import Served, serve

    _buyer_only(organisation)
    document = selectors.document_for(
        user=request.user, organisation=organisation, meeting_pk=pk, document_pk=document_pk
    )
    if document is None:
        raise Http404
    response = serve(
        request,
        Served(
            storage_name=document.storage_name,
            size=document.size,
            sha256=document.sha256,
            content_type=document.content_type or "application/octet-stream",
            filename=document.original_name,
        ),
        accel=False,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- Convening --------------------------------------------------------------------------------------


def _members_to_convene(meeting: Meeting) -> list[Any]:
    """Who the convocation goes to (the convocations' rule: titulars and consultative voices in office)."""
    from ebourgogne.meetings import convocations

    found = getattr(convocations, "members_to_convene", None)
    if found is not None:
        return list(found(meeting))
    return services.members_on(meeting.commission, meeting.starts_at.astimezone(clock.PARIS).date())


@organisation_view("meetings.manage")
@require_http_methods(["GET", "POST"])
def meeting_convene(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    late = services.is_late(meeting)
    status = 200
    if request.method == "POST":
        form = forms.ConveneForm(request.POST, late=late)
        status = 400
        if form.is_valid():
            try:
                meeting = services.meeting_convene(
                    acting_user=request.user,
                    meeting=meeting,
                    urgency_reason=form.cleaned_data.get("urgency_reason", ""),
                    request=request,
                )
            except DomainError as error:
                forms.add_service_errors(form, error)
                status = _status(error)
            else:
                if meeting.is_urgent:
                    messages.warning(
                        request,
                        _("La commission est convoquée en urgence : les convocations partent avec le motif indiqué."),
                    )
                else:
                    messages.success(request, _("La commission est convoquée : les convocations partent par courriel."))
                return redirect(_detail_url(meeting))
    else:
        form = forms.ConveneForm(late=late)
    return render(
        request,
        "meetings/convene.html",
        _meeting_context(
            request,
            organisation,
            meeting,
            form=form,
            items=selectors.agenda_of(meeting),
            members=_members_to_convene(meeting),
        ),
        status=status,
    )
