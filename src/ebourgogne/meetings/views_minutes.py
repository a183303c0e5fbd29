"""The minutes (procès-verbal) of a meeting: /organisations/<org>/seances/<pk>/proces-verbal/ and its forms
(generate, sign) and the download of the current PDF.

Thin: access through `core.access` (meetings.view) then `session.meeting_for` (the buyer's staff, or a
member of the meeting's commission; 404 to anybody else); changes through `meetings.minutes`. A refusal
re-renders the page with its message and the right status; a password or passphrase typed is never
echoed back."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from ebourgogne.core.access import organisation_view
from ebourgogne.core.errors import DomainError, NotFound
from ebourgogne.meetings import minutes as minutes_service
from ebourgogne.meetings import session
from ebourgogne.meetings.models import Meeting, MeetingState, Minutes

VIEW = "meetings.view"
ERROR_STATUS = {"not_found": 404, "forbidden": 403, "not_a_signer": 403, "not_your_turn": 409, "already_signed": 409}


def _meeting(request: HttpRequest, organisation: Any, pk: int) -> Meeting:
    try:
        return session.meeting_for(user=request.user, organisation=organisation, pk=pk)
    except NotFound:
        raise Http404 from None


def _optional_url(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


# --- Forms -------------------------------------------------------------------------------------------


class GenerateForm(forms.Form):
    signers = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Signataires"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "Parmi les membres qui ont siégé. Le président signe en premier, puis les autres dans l'ordre de la liste."
        ),
        error_messages={"required": gettext_lazy("Choisissez au moins un signataire.")},
    )

    def __init__(self, *args: Any, candidates: list[minutes_service.Candidate], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signers"].choices = [
            (
                candidate.user_id,
                (_("%(name)s — président") if candidate.is_president else _("%(name)s — %(voice)s, %(status)s"))
                % {
                    "name": candidate.name,
                    "voice": candidate.voice_label.lower(),
                    "status": candidate.status_label.lower(),
                },
            )
            for candidate in candidates
        ]
        if not self.is_bound:
            self.initial["signers"] = [candidate.user_id for candidate in candidates if candidate.default]


class SignForm(forms.Form):
    certificate = forms.TypedChoiceField(
        label=gettext_lazy("Certificat"), coerce=int, widget=forms.RadioSelect, empty_value=None
    )
    secret = forms.CharField(
        label=gettext_lazy("Mot de passe du certificat ou phrase secrète de signature"),
        strip=False,
        max_length=1024,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "Le mot de passe du fichier PKCS#12 pour un certificat importé, la phrase secrète de signature pour un "
            "certificat délivré par la plateforme. Il n'est pas enregistré."
        ),
    )

    def __init__(self, *args: Any, certificates: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.certificates = {certificate.pk: certificate for certificate in certificates}
        self.fields["certificate"].choices = [
            (
                certificate.pk,
                _("%(name)s — %(origin)s, valable jusqu'au %(end)s")
                % {
                    "name": certificate.label or certificate.subject,
                    "origin": certificate.get_origin_display().lower(),
                    "end": certificate.not_after.strftime("%d/%m/%Y"),
                },
            )
            for certificate in certificates
        ]
        if len(certificates) == 1 and not self.is_bound:
            self.initial["certificate"] = certificates[0].pk


# --- Pages -------------------------------------------------------------------------------------------


def _page(
    request: HttpRequest,
    organisation: Any,
    meeting: Meeting,
    *,
    status: int = 200,
    error: str = "",
    generate_form: GenerateForm | None = None,
    sign_form: SignForm | None = None,
) -> HttpResponse:
    from ebourgogne.signatures import selectors as certificate_selectors
    from ebourgogne.signatures import services as signing

    found = session.access(request.user, meeting)
    minutes = minutes_service.minutes_of(meeting)
    rows = minutes_service.signatures_of(minutes) if minutes else []
    turn = minutes_service.next_signature(minutes) if minutes else None
    mine = next((row for row in rows if row.user_id == request.user.pk), None)
    can_generate = found.can_run and meeting.state == MeetingState.CLOSED and not any(row.signed_at for row in rows)
    if can_generate and generate_form is None:
        generate_form = GenerateForm(candidates=minutes_service.signer_candidates(meeting), auto_id="generate_%s")
    certificates = certificate_selectors.usable_certificates_of(request.user)
    my_turn = turn is not None and turn.user_id == request.user.pk
    if my_turn and sign_form is None:
        sign_form = SignForm(certificates=certificates, auto_id="sign_%s")
    checks, check_error = [], ""
    if minutes is not None and any(row.signed_at for row in rows):
        try:
            checks = signing.validate_pdf(minutes_service.read_current(minutes))
        except DomainError as problem:
            check_error = problem.message
    context = {
        "organisation": organisation,
        "meeting": meeting,
        "minutes": minutes,
        "rows": rows,
        "turn": turn,
        "mine": mine,
        "my_turn": my_turn,
        "can_generate": can_generate,
        "generate_form": generate_form if can_generate else None,
        "sign_form": sign_form if my_turn else None,
        "certificates": certificates,
        "checks": checks,
        "check_error": check_error,
        "error": error,
        "list_url": _optional_url("meetings:list", organisation.slug),
        "meeting_url": _optional_url("meetings:detail", organisation.slug, meeting.pk),
        "session_url": _optional_url("meetings:session", organisation.slug, meeting.pk),
    }
    return render(request, "meetings/minutes_page.html", context, status=status)


@require_GET
@organisation_view(VIEW)
def minutes_page(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    return _page(request, organisation, _meeting(request, organisation, pk))


@require_POST
@organisation_view(VIEW)
def minutes_generate(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    found = session.access(request.user, meeting)
    if not found.can_run:
        return _page(
            request,
            organisation,
            meeting,
            status=403,
            error=_("Seuls les agents de l'acheteur et le président de la commission génèrent le procès-verbal."),
        )
    if meeting.state != MeetingState.CLOSED:
        return _page(
            request, organisation, meeting, status=409, error=_("Le procès-verbal se génère une fois la séance close.")
        )
    form = GenerateForm(request.POST, candidates=minutes_service.signer_candidates(meeting), auto_id="generate_%s")
    if form.is_valid():
        try:
            minutes_service.minutes_generate(
                meeting=meeting, acting_user=request.user, signers=form.cleaned_data["signers"], request=request
            )
        except DomainError as problem:
            if problem.code == "signers":
                form.add_error("signers", problem.message)
            else:
                return _page(
                    request, organisation, meeting, status=ERROR_STATUS.get(problem.code, 400), error=problem.message
                )
        else:
            messages.success(request, _("Le procès-verbal est généré : il peut être signé."))
            return redirect("meetings:minutes", organisation.slug, meeting.pk)
    return _page(request, organisation, meeting, status=400, generate_form=form)


@require_POST
@organisation_view(VIEW)
def minutes_sign(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    from ebourgogne.signatures import selectors as certificate_selectors

    meeting = _meeting(request, organisation, pk)
    minutes = minutes_service.minutes_of(meeting)
    if minutes is None:
        raise Http404
    form = SignForm(
        request.POST, certificates=certificate_selectors.usable_certificates_of(request.user), auto_id="sign_%s"
    )
    if form.is_valid():
        try:
            done = minutes_service.minutes_sign(
                minutes=minutes,
                user=request.user,
                certificate=form.certificates[form.cleaned_data["certificate"]],
                secret=form.cleaned_data["secret"],
                request=request,
            )
        except DomainError as problem:
            if problem.code in ("wrong_secret", "wrong_password"):
                form.add_error("secret", problem.message)
            elif problem.code in ("revoked", "expired", "not_yet_valid", "key_usage", "unsealable"):
                form.add_error("certificate", problem.message)
            else:
                return _page(
                    request,
                    organisation,
                    meeting,
                    status=ERROR_STATUS.get(problem.code, 400),
                    error=problem.message,
                )
        else:
            if done.state == "signed":
                messages.success(
                    request,
                    _(
                        "Vous avez signé le procès-verbal : toutes les signatures sont faites, le document est horodaté."
                    ),
                )
            else:
                messages.success(request, _("Vous avez signé le procès-verbal."))
            return redirect("meetings:minutes", organisation.slug, meeting.pk)
    return _page(request, organisation, meeting, status=400, sign_form=form)


@require_GET
@organisation_view(VIEW)
def minutes_download(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    meeting = _meeting(request, organisation, pk)
    minutes: Minutes | None = minutes_service.minutes_of(meeting)
    if minutes is None or not minutes_service.can_download(request.user, meeting):
        raise Http404
    try:
        data = minutes_service.read_current(minutes)
    except DomainError as problem:
        return _page(
            request, organisation, meeting, status=409 if problem.code == "tampered" else 404, error=problem.message
        )
    from io import BytesIO

    response = FileResponse(
        BytesIO(data),
        as_attachment=True,
        filename=minutes_service.download_name(minutes),
        content_type="application/pdf",
    )
    response["X-Content-SHA256"] = minutes.sha256
    return response
