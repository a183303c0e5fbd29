"""The member's pages of their convocations (/seances/): the list of their meetings, the personal link of
the e-mail, the meeting's page with the acknowledgement and the answer, the invitation to download.

Access: a signed-in person sees only their own convocations (any other meeting answers 404, its existence
is not revealed); commission members have a second factor (the platform's MFA middleware). The personal
link is the one public view: its signed token proves it came from the e-mail, so its opening is recorded
even before signing in; it shows nothing of the meeting until the member is signed in, and refuses
another signed-in person. Rules live in meetings/convocations.py; refusals are clear pages, never a 500.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from ebourgogne.core.access import authenticated, public
from ebourgogne.core.errors import DomainError, NotFound
from ebourgogne.core.views import error_response
from ebourgogne.meetings import convocations
from ebourgogne.meetings.models import MeetingState, Response


class AnswerForm(forms.Form):
    response = forms.ChoiceField(
        label=gettext_lazy("Ma réponse"),
        widget=forms.RadioSelect,
        choices=[(value, label) for value, label in Response.choices if value != Response.PENDING],
        error_messages={
            "required": gettext_lazy("Choisissez une réponse."),
            "invalid_choice": gettext_lazy("Choisissez une des réponses proposées."),
        },
    )

    def __init__(self, *args, representable: bool = True, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not representable:
            self.fields["response"].choices = [
                choice for choice in self.fields["response"].choices if choice[0] != Response.REPRESENTED
            ]


def _convocation(request: HttpRequest, pk: int):
    try:
        return convocations.member_convocation(request.user, pk)
    except NotFound:
        raise Http404 from None


def _documents(meeting):
    """The meeting's documents, each downloaded through the buyer's document view (meetings.view: the
    commission's members, who are members of the buyer)."""
    return [
        {
            "document": document,
            "url": reverse("meetings:document_download", args=[meeting.organisation.slug, meeting.pk, document.pk]),
        }
        for document in meeting.documents.filter(removed_at__isnull=True).order_by("uploaded_at", "id")
    ]


def _page(request: HttpRequest, convocation, *, form: AnswerForm | None = None, status: int = 200) -> HttpResponse:
    meeting = convocation.meeting
    representable = convocations.can_be_represented(convocation)
    open_for_answers = meeting.state == MeetingState.CONVENED and convocation.cancelled_at is None
    initial = {"response": convocation.response} if convocation.response != Response.PENDING else {}
    context = {
        "convocation": convocation,
        "meeting": meeting,
        "items": list(meeting.items.order_by("position", "id")),
        "documents": _documents(meeting),
        "substitutes": list(convocation.replaced_by.filter(cancelled_at__isnull=True).select_related("user")),
        "open_for_answers": open_for_answers,
        "representable": representable,
        "form": form or AnswerForm(initial=initial, representable=representable, auto_id="answer_%s"),
    }
    return render(request, "meetings/member_detail.html", context, status=status)


@authenticated
def member_list(request: HttpRequest) -> HttpResponse:
    upcoming, past = convocations.member_convocations(request.user)
    return render(request, "meetings/member_list.html", {"upcoming": upcoming, "past": past})


@public(
    reason=(
        "personal link of a convocation e-mail: a signed token naming one convocation; records its opening "
        "(evidence), then sends to the sign-in page; shows the meeting only to its member, signed in"
    )
)
def link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        convocation = convocations.read_link(token)
    except convocations.LinkExpired as error:
        return error_response(request, 410, _("Lien expiré"), error.message, "link_expired")
    except convocations.LinkInvalid as error:
        return error_response(request, 400, _("Lien non valide"), error.message, "link_invalid")
    user = request.user
    if user.is_authenticated and user.pk != convocation.user_id:
        return error_response(
            request,
            403,
            _("Lien personnel d'un autre membre"),
            _(
                "Ce lien a été envoyé à un autre membre : il ne peut pas être utilisé avec votre compte. "
                "Vos propres convocations sont dans « Mes séances »."
            ),
            "not_yours",
        )
    convocations.record_opening(convocation, signed_in=user.is_authenticated)
    if not user.is_authenticated:
        messages.info(request, _("Connectez-vous pour voir votre convocation : le lien vous y ramènera."))
        return redirect_to_login(request.get_full_path())
    return redirect("meetings_member:detail", pk=convocation.meeting_id)


@authenticated
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _convocation(request, pk))


@require_POST
@authenticated
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    convocation = _convocation(request, pk)
    try:
        convocations.convocation_acknowledge(convocation=convocation, acting_user=request.user, request=request)
    except DomainError as error:
        messages.error(request, error.message)
        return _page(request, _convocation(request, pk), status=400)
    messages.success(request, _("Votre accusé de réception est enregistré et horodaté."))
    return redirect("meetings_member:detail", pk=pk)


@require_POST
@authenticated
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    convocation = _convocation(request, pk)
    representable = convocations.can_be_represented(convocation)
    form = AnswerForm(request.POST, representable=True, auto_id="answer_%s")
    if form.is_valid():
        try:
            substitutes = convocations.convocation_answer(
                convocation=convocation,
                acting_user=request.user,
                response=form.cleaned_data["response"],
                request=request,
            )
        except DomainError as error:
            form.add_error("response", error.message)
        else:
            messages.success(request, _("Votre réponse est enregistrée et horodatée."))
            for substitute in substitutes:
                messages.info(
                    request,
                    _("%(name)s, votre suppléant, est convoqué à votre place.")
                    % {"name": substitute.user.full_name or substitute.user.email},
                )
            return redirect("meetings_member:detail", pk=pk)
    form.fields["response"].choices = AnswerForm(representable=representable).fields["response"].choices
    return _page(request, _convocation(request, pk), form=form, status=400)


@authenticated
def calendar(request: HttpRequest, pk: int) -> HttpResponse:
    convocation = _convocation(request, pk)
    text = convocations.calendar_for(convocation)
    response = HttpResponse(text, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="seance-{convocation.meeting_id}.ics"'
    return response
