"""Questions pages. Thin: access through `core.access`, reads through `selectors`, changes through
`services`; a refusal becomes a message on the page with the right status."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ebourgogne.consultations.models import Consultation
from ebourgogne.core.access import authenticated, organisation_view, public, resolve_organisation
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.questions import forms, selectors, services
from ebourgogne.questions.models import Kind

ERROR_STATUS = {"not_found": 404, "forbidden": 403, "late_answer": 409, "busy": 503}


def _status(error: DomainError) -> int:
    return ERROR_STATUS.get(error.code, 400)


consultation_public_url = services.public_page_path


def consultation_buyer_url(consultation: Consultation) -> str:
    try:
        return reverse("consultations_buyer:detail", args=[consultation.organisation.slug, consultation.pk])
    except NoReverseMatch:
        return reverse("questions_buyer:list", args=[consultation.organisation.slug, consultation.pk])


# --- Public -----------------------------------------------------------------------------------------


@public(reason="published answers and information of a public consultation, without the askers' identity")
def public_list(request: HttpRequest, pk: int) -> HttpResponse:
    consultation = selectors.public_consultation(pk)
    if consultation is None:
        raise Http404
    return render(
        request,
        "questions/public_list.html",
        {"consultation": consultation, "consultation_url": consultation_public_url(consultation)},
    )


@authenticated
@require_http_methods(["GET", "POST"])
def ask(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask a question in the name of one of the caller's companies (permission questions.ask there).

    The company comes from the form; it is resolved through the access layer like an organisation in the
    URL: not a member → 404, a role without questions.ask → 403."""
    consultation = selectors.public_consultation(pk)
    if consultation is None:
        raise Http404
    companies = selectors.asking_companies(request.user)
    context = {
        "consultation": consultation,
        "consultation_url": consultation_public_url(consultation),
        "deadline": services.questions_deadline(consultation),
        "is_open": services.questions_open(consultation),
        "companies": companies,
    }
    form = forms.AskForm(request.POST or None, companies=companies)
    status = 200
    if request.method == "POST":
        status = 400
        slug = request.POST.get("company", "")
        company: Organisation | None = None
        if slug:
            company = resolve_organisation(request, slug, "questions.ask")
        elif not companies:
            raise PermissionDenied(_("Seuls les membres d'une entreprise inscrite peuvent poser une question."))
        if company is not None and form.is_valid():
            try:
                question = services.question_ask(
                    acting_user=request.user,
                    company=company,
                    consultation=consultation,
                    text=form.cleaned_data["text"],
                    request=request,
                )
            except DomainError as error:
                forms.add_service_error(form, error, "text")
                status = _status(error)
            else:
                messages.success(
                    request,
                    _(
                        "Votre question n° %(number)d est transmise à l'acheteur. Vous recevrez sa réponse par "
                        "courriel ; elle sera aussi publiée ici, sans le nom de votre entreprise."
                    )
                    % {"number": question.number},
                )
                return redirect(consultation_public_url(consultation))
    elif not companies:
        status = 403
    return render(request, "questions/ask.html", {**context, "form": form}, status=status)


# --- Buyer ------------------------------------------------------------------------------------------


def _consultation(organisation: Organisation, pk: int) -> Consultation:
    consultation = selectors.buyer_consultation(organisation=organisation, pk=pk)
    if consultation is None:
        raise Http404
    return consultation


def _buyer_context(request: HttpRequest, organisation: Organisation, consultation: Consultation, **extra):
    roles = getattr(request, "organisation_roles", set())
    return {
        "organisation": organisation,
        "consultation": consultation,
        "consultation_url": consultation_buyer_url(consultation),
        "public_url": consultation_public_url(consultation) if consultation.is_public else "",
        "can_answer": roles_grant(roles, "questions.answer"),
        "answer_limit": services.answer_limit(consultation),
        "is_late": services.is_late(consultation),
        "is_published": consultation.effective_state == "published",
        **extra,
    }


@organisation_view("consultations.view")
def buyer_list(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    entries = list(selectors.buyer_entries(consultation))
    context = _buyer_context(
        request,
        organisation,
        consultation,
        entries=entries,
        unanswered=sum(1 for entry in entries if entry.kind == Kind.QUESTION and entry.published_at is None),
        questions_deadline=services.questions_deadline(consultation),
    )
    return render(request, "questions/buyer_list.html", context)


@organisation_view("questions.answer")
@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, organisation: Organisation, pk: int, question_pk: int) -> HttpResponse:
    """Answer a question, or edit a published answer or information (the earlier text is kept)."""
    consultation = _consultation(organisation, pk)
    entry = selectors.buyer_entry(consultation=consultation, pk=question_pk)
    if entry is None:
        raise Http404
    late = services.is_late(consultation)
    published = entry.published_at is not None
    if entry.kind == Kind.QUESTION:
        initial = {"question_text": entry.text, "answer": entry.answer}
        form: forms.forms.Form = forms.AnswerForm(request.POST or None, initial=initial, late=late, published=published)
    else:
        form = forms.InformationForm(request.POST or None, initial={"text": entry.text}, late=late)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                if entry.kind == Kind.QUESTION:
                    services.question_answer(
                        acting_user=request.user,
                        question=entry,
                        answer=data["answer"],
                        question_text=data.get("question_text"),
                        confirm_late=bool(data.get("confirm_late")),
                        request=request,
                    )
                else:
                    services.information_edit(
                        acting_user=request.user,
                        information=entry,
                        text=data["text"],
                        confirm_late=bool(data.get("confirm_late")),
                        request=request,
                    )
            except DomainError as error:
                forms.add_service_error(form, error, "confirm_late" if error.code == "late_answer" else None)
                status = _status(error)
            else:
                messages.success(
                    request,
                    _("Le texte modifié est publié ; l'ancien reste consultable. Les entreprises sont prévenues.")
                    if published
                    else _("La réponse est publiée sur la page de la consultation et envoyée par courriel."),
                )
                return redirect("questions_buyer:list", organisation.slug, consultation.pk)
    context = _buyer_context(request, organisation, consultation, entry=entry, form=form, published=published)
    return render(request, "questions/answer.html", context, status=status)


@organisation_view("questions.answer")
@require_http_methods(["GET", "POST"])
def information(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    """Publish information of the buyer's own."""
    consultation = _consultation(organisation, pk)
    form = forms.InformationForm(request.POST or None, late=services.is_late(consultation))
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.information_publish(
                    acting_user=request.user,
                    consultation=consultation,
                    text=form.cleaned_data["text"],
                    confirm_late=bool(form.cleaned_data.get("confirm_late")),
                    request=request,
                )
            except DomainError as error:
                forms.add_service_error(form, error, "confirm_late" if error.code == "late_answer" else None)
                status = _status(error)
            else:
                messages.success(request, _("L'information est publiée et envoyée par courriel."))
                return redirect("questions_buyer:list", organisation.slug, consultation.pk)
    context = _buyer_context(request, organisation, consultation, form=form)
    return render(request, "questions/information.html", context, status=status)
