"""The award pages of a buyer (under a consultation) and a company's letters. Thin: access through
`core.access`, reads through `selectors`, changes through `services`; a refusal is shown on the page
with the input kept and the right status (400, 403, 404)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django_scopes import scopes_disabled

from ebourgogne.awards import forms, letters, rules, selectors, services
from ebourgogne.awards.models import Letter, LetterEventKind, Outcome
from ebourgogne.core.access import organisation_view
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.models import Organisation
from ebourgogne.organisations.roles import roles_grant

ERROR_STATUS = {"not_found": 404, "forbidden": 403}


def _status(error: DomainError) -> int:
    return ERROR_STATUS.get(error.code, 400)


def _consultation(organisation: Organisation, pk: int):
    if not organisation.is_buyer:
        raise Http404
    consultation = selectors.consultation_of(organisation=organisation, pk=pk)
    if consultation is None:
        raise Http404
    return consultation


def _evaluation(consultation, evaluation_id: int):
    evaluation = selectors.evaluation_of(consultation, evaluation_id)
    if evaluation is None:
        raise Http404
    return evaluation


def _can(request: HttpRequest) -> dict[str, bool]:
    roles = getattr(request, "organisation_roles", set())
    return {"manage": roles_grant(roles, services.MANAGE), "view": roles_grant(roles, services.VIEW)}


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- Overview and admissions ----------------------------------------------------------------------


def _overview(request, organisation, consultation, *, admission_errors=None, status=200):
    evaluations = (
        services.evaluations_ensure(consultation=consultation)
        if consultation.state == "opened"
        else selectors.evaluations_of(consultation)
    )
    admissions = selectors.admissions_of(consultation)
    bids = selectors.opened_bids(consultation)
    rows = [
        {
            "bid": bid,
            "admission": admissions.get(bid.pk),
            "lots": ", ".join(str(lot.number) for lot in bid.lots.all()),
            "error": (admission_errors or {}).get("bid") == bid.pk and admission_errors,
        }
        for bid in bids
    ]
    summaries = []
    for evaluation in evaluations:
        view = selectors.evaluation_view(evaluation)
        summaries.append({"evaluation": evaluation, "view": view, "label": services.evaluation_label(evaluation)})
    return render(
        request,
        "awards/overview.html",
        {
            "organisation": organisation,
            "consultation": consultation,
            "rows": rows,
            "late": selectors.late_bids(consultation),
            "summaries": summaries,
            "letters": selectors.letters_of_consultation(consultation),
            "can": _can(request),
            "editable": consultation.state == "opened",
        },
        status=status,
    )


@organisation_view("awards.view")
@require_GET
def overview(request: HttpRequest, organisation: Organisation, pk: int) -> HttpResponse:
    return _overview(request, organisation, _consultation(organisation, pk))


@organisation_view("awards.manage")
@require_POST
def admission(request: HttpRequest, organisation: Organisation, pk: int, bid_id: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    form = forms.AdmissionForm(request.POST)
    if form.is_valid():
        try:
            services.admission_decide(
                acting_user=request.user,
                consultation=consultation,
                bid=bid_id,
                decision=form.cleaned_data["decision"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except DomainError as error:
            message, status = _message(error), _status(error)
        else:
            messages.success(request, _("La décision d'admission est enregistrée."))
            return redirect("awards:overview", org_slug=organisation.slug, pk=consultation.pk)
    else:
        message, status = _("Choisissez : candidature admise ou rejetée."), 400
    return _overview(
        request,
        organisation,
        consultation,
        admission_errors={"bid": bid_id, "message": message, "reason": request.POST.get("reason", "")},
        status=status,
    )


def _message(error: DomainError) -> str:
    errors = getattr(error, "errors", None)
    if errors:
        return " ".join(str(message) for values in errors.values() for message in values)
    return str(error.message)


# --- One evaluation -------------------------------------------------------------------------------


def _evaluation_page(
    request,
    organisation,
    consultation,
    evaluation,
    *,
    criteria_form=None,
    decision_form=None,
    errors=None,
    posted=None,
    status=200,
):
    view = selectors.evaluation_view(evaluation)
    errors = errors or {}
    posted = posted or {}
    own_marks = {}
    user_id = request.user.pk
    rows = []
    for row in view.rows:
        marks = []
        for leaf in view.leaves:
            if leaf.kind != "quality":
                continue
            key = f"{row.offer.pk}-{leaf.pk}"
            mine = row.by_evaluator.get(leaf.pk, {}).get(user_id)
            value = posted.get(key, mine if mine is not None else "")
            marks.append({"leaf": leaf, "value": value, "name": f"mark_{leaf.pk}", "id": f"mark-{key}"})
        rows.append(
            {
                "row": row,
                "marks": marks,
                "consolidated": [row.marks.get(leaf.pk) for leaf in view.leaves],
                "price_value": posted.get(
                    f"price-{row.offer.pk}", row.offer.price if row.offer.price is not None else ""
                ),
                "error": errors.get(row.offer.pk),
            }
        )
        own_marks[row.offer.pk] = marks
    ranked = view.ranked
    winners = [(str(row.offer.bid_id), f"{row.rank}. {row.company_name}") for row in ranked]
    decisions = _meeting_decisions(consultation)
    if decision_form is None:
        decision_form = forms.DecisionForm(winners=winners, decisions=decisions, auto_id="decision_%s")
    if criteria_form is None:
        price = next((parent for parent, _children in view.tree if parent.kind == "price"), None)
        criteria_form = forms.CriteriaForm(
            initial={
                "scale_max": evaluation.scale_max,
                "price_name": price.name if price else _("Prix"),
                "price_weight": f"{price.weight.normalize():f}" if price else "",
                "quality": forms.criteria_text(view.tree),
                "low_ratio": str(evaluation.low_ratio).replace(".", ","),
                "standstill_days": evaluation.standstill_days if evaluation.standstill_days is not None else "",
            },
            auto_id="criteria_%s",
        )
    days = rules.standstill_days(formalised=consultation.is_formalised, configured=evaluation.standstill_days)
    return render(
        request,
        "awards/evaluation.html",
        {
            "organisation": organisation,
            "consultation": consultation,
            "evaluation": evaluation,
            "label": services.evaluation_label(evaluation),
            "view": view,
            "rows": rows,
            "criteria_form": criteria_form,
            "decision_form": decision_form,
            "can": _can(request),
            "editable": consultation.state == "opened" and view.award is None,
            "scored": any(row.by_evaluator for row in view.rows),
            "standstill_days": days,
            "letters": [
                letter
                for letter in selectors.letters_of_consultation(consultation)
                if letter.award.evaluation_id == evaluation.pk
            ],
            "document_requests": selectors.document_requests_of_evaluation(evaluation),
            "outcome_awarded": Outcome.AWARDED,
        },
        status=status,
    )


def _meeting_decisions(consultation) -> list[tuple[str, str]]:
    from ebourgogne.meetings.models import Decision, DecisionKind

    with scopes_disabled():
        rows = (
            Decision.objects.filter(
                agenda_item__meeting__organisation=consultation.organisation,
                agenda_item__consultation=consultation,
                kind__in=[DecisionKind.WINNER, DecisionKind.RANKING],
            )
            .select_related("agenda_item__meeting")
            .order_by("-recorded_at")
        )
        return [(str(row.pk), f"{row.agenda_item.meeting.title} — {row.text[:80]}") for row in rows]


@organisation_view("awards.view")
@require_GET
def evaluation_detail(request: HttpRequest, organisation: Organisation, pk: int, evaluation_id: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    return _evaluation_page(request, organisation, consultation, _evaluation(consultation, evaluation_id))


@organisation_view("awards.manage")
@require_POST
def criteria(request: HttpRequest, organisation: Organisation, pk: int, evaluation_id: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    evaluation = _evaluation(consultation, evaluation_id)
    form = forms.CriteriaForm(request.POST, auto_id="criteria_%s")
    status = 400
    if form.is_valid():
        try:
            services.criteria_set(
                acting_user=request.user, evaluation=evaluation, request=request, **form.service_data()
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        else:
            messages.success(request, _("Les critères sont enregistrés."))
            return redirect(
                "awards:evaluation", org_slug=organisation.slug, pk=consultation.pk, evaluation_id=evaluation.pk
            )
    return _evaluation_page(request, organisation, consultation, evaluation, criteria_form=form, status=status)


def _offer_action(request, organisation, pk, evaluation_id, offer_id, action, posted_key):
    consultation = _consultation(organisation, pk)
    evaluation = _evaluation(consultation, evaluation_id)
    try:
        action(consultation, evaluation)
    except DomainError as error:
        return _evaluation_page(
            request,
            organisation,
            consultation,
            evaluation,
            errors={offer_id: _message(error)},
            posted=posted_key,
            status=_status(error),
        )
    messages.success(request, _("C'est enregistré."))
    return redirect(f"{_evaluation_url(organisation, consultation, evaluation)}#offre-{offer_id}")


def _evaluation_url(organisation, consultation, evaluation) -> str:
    from django.urls import reverse

    return reverse("awards:evaluation", args=[organisation.slug, consultation.pk, evaluation.pk])


@organisation_view("awards.manage")
@require_POST
def price(request: HttpRequest, organisation: Organisation, pk: int, evaluation_id: int, offer_id: int) -> HttpResponse:
    value = request.POST.get("price", "")

    def action(consultation, evaluation):
        services.offer_set_price(
            acting_user=request.user, evaluation=evaluation, offer=offer_id, price=value, request=request
        )

    return _offer_action(request, organisation, pk, evaluation_id, offer_id, action, {f"price-{offer_id}": value})


@organisation_view("awards.manage")
@require_POST
def low(request: HttpRequest, organisation: Organisation, pk: int, evaluation_id: int, offer_id: int) -> HttpResponse:
    def action(consultation, evaluation):
        services.offer_low_outcome(
            acting_user=request.user,
            evaluation=evaluation,
            offer=offer_id,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            request=request,
        )

    return _offer_action(request, organisation, pk, evaluation_id, offer_id, action, {})


@organisation_view("awards.view")
@require_POST
def scores(
    request: HttpRequest, organisation: Organisation, pk: int, evaluation_id: int, offer_id: int
) -> HttpResponse:
    marks: dict[int, Any] = {}
    posted: dict[str, Any] = {}
    for key, value in request.POST.items():
        if key.startswith("mark_"):
            try:
                criterion_id = int(key.removeprefix("mark_"))
            except ValueError:
                continue
            marks[criterion_id] = value
            posted[f"{offer_id}-{criterion_id}"] = value

    def action(consultation, evaluation):
        services.scores_set(
            acting_user=request.user, evaluation=evaluation, offer=offer_id, marks=marks, request=request
        )

    return _offer_action(request, organisation, pk, evaluation_id, offer_id, action, posted)


@organisation_view("awards.view")
@require_GET
def report(request: HttpRequest, organisation: Organisation, pk: int, evaluation_id: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    evaluation = _evaluation(consultation, evaluation_id)
    data = letters.analysis_report_pdf(consultation, evaluation)
    suffix = f"-lot-{evaluation.lot.number}" if evaluation.lot_id else ""
    return _pdf(data, f"rapport-analyse-{consultation.pk}{suffix}.pdf")


@organisation_view("awards.manage")
@require_POST
def decide(request: HttpRequest, organisation: Organisation, pk: int, evaluation_id: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    evaluation = _evaluation(consultation, evaluation_id)
    view = selectors.evaluation_view(evaluation)
    winners = [(str(row.offer.bid_id), f"{row.rank}. {row.company_name}") for row in view.ranked]
    form = forms.DecisionForm(
        request.POST, winners=winners, decisions=_meeting_decisions(consultation), auto_id="decision_%s"
    )
    status = 400
    if form.is_valid():
        try:
            services.award_decide(
                acting_user=request.user, evaluation=evaluation, request=request, **form.service_data()
            )
        except DomainError as error:
            forms.add_service_errors(form, error)
            status = _status(error)
        else:
            messages.success(request, _("La décision est enregistrée. Envoyez maintenant les courriers."))
            return redirect(
                "awards:evaluation", org_slug=organisation.slug, pk=consultation.pk, evaluation_id=evaluation.pk
            )
    return _evaluation_page(request, organisation, consultation, evaluation, decision_form=form, status=status)


@organisation_view("awards.manage")
@require_POST
def send_letters(request: HttpRequest, organisation: Organisation, pk: int, evaluation_id: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    evaluation = _evaluation(consultation, evaluation_id)
    view = selectors.evaluation_view(evaluation)
    if view.award is None:
        messages.error(request, _("Prenez d'abord la décision."))
        return redirect(
            "awards:evaluation", org_slug=organisation.slug, pk=consultation.pk, evaluation_id=evaluation.pk
        )
    try:
        sent = services.letters_send(acting_user=request.user, award=view.award, request=request)
    except DomainError as error:
        messages.error(request, _message(error))
        return _evaluation_page(request, organisation, consultation, evaluation, status=_status(error))
    messages.success(request, _("%(count)s courriers envoyés.") % {"count": len(sent)})
    return redirect("awards:evaluation", org_slug=organisation.slug, pk=consultation.pk, evaluation_id=evaluation.pk)


@organisation_view("awards.view")
@require_GET
def buyer_letter_pdf(request: HttpRequest, organisation: Organisation, pk: int, letter_id: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    letter = selectors.letter_of_consultation(consultation, letter_id)
    if letter is None:
        raise Http404
    return _letter_pdf(letter)


def _letter_pdf(letter: Letter) -> HttpResponse:
    try:
        data = services.letter_content(letter)
    except DomainError as error:
        return HttpResponse(str(error.message), status=409, content_type="text/plain; charset=utf-8")
    return _pdf(data, f"courrier-{letter.uid}.pdf")


# --- Company side ---------------------------------------------------------------------------------


def _company(organisation: Organisation) -> None:
    if not organisation.is_company:
        raise Http404


@organisation_view("letters.view")
@require_GET
def company_letters(request: HttpRequest, organisation: Organisation) -> HttpResponse:
    _company(organisation)
    return render(
        request,
        "awards/company_letters.html",
        {
            "organisation": organisation,
            "letters": selectors.letters_of(company=organisation),
            "requests": selectors.document_requests_of(company=organisation),
            "can_grant": roles_grant(getattr(request, "organisation_roles", set()), "vault.grant"),
        },
    )


def _company_letter(request, organisation, letter_id) -> Letter:
    _company(organisation)
    letter = selectors.letter_of(company=organisation, pk=letter_id)
    if letter is None:
        raise Http404
    return services.letter_read(acting_user=request.user, letter=letter, request=request)


@organisation_view("letters.view")
@require_GET
def company_letter(request: HttpRequest, organisation: Organisation, letter_id: int) -> HttpResponse:
    letter = _company_letter(request, organisation, letter_id)
    with scopes_disabled():
        letter = Letter.objects.select_related("consultation__organisation", "award__evaluation__lot").get(pk=letter.pk)
        sent = letter.events.filter(kind=LetterEventKind.SENT).first()
    return render(request, "awards/company_letter.html", {"organisation": organisation, "letter": letter, "sent": sent})


@organisation_view("letters.view")
@require_GET
def company_letter_pdf(request: HttpRequest, organisation: Organisation, letter_id: int) -> HttpResponse:
    return _letter_pdf(_company_letter(request, organisation, letter_id))
