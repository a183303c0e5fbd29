"""Consultation pages: the buyer's list, creation and edit form (lots, CPV picker), the buyer's page with
its actions and event log, and the public page. Thin: access through `core.access`, reads through
`selectors`, changes through `services`; a refusal becomes a message on the page with the right status.

The edit form works without JavaScript: adding a lot, searching or browsing the CPV tree and picking a
code are buttons of the form that send it back and get it again, changed but not saved. With htmx the
same buttons swap only the form (`hx-select`), and the CPV search runs as one types.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models.signals import post_delete, post_save
from django.forms.utils import ErrorDict, ErrorList
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from ebourgogne.audit.actions import action_label
from ebourgogne.consultations import forms, selectors, services
from ebourgogne.consultations.models import Consultation, CpvCode, Lot, State
from ebourgogne.core import pagecache
from ebourgogne.core.access import organisation_view, public
from ebourgogne.core.errors import DomainError
from ebourgogne.organisations.roles import PERMISSIONS, roles_grant

ERROR_STATUS = {
    "not_found": 404,
    "forbidden": 403,
    "illegal_transition": 409,
    "not_editable": 409,
    "not_postponable": 409,
    "deadline_not_passed": 409,
    "not_draft": 409,
}
PAGE_SIZE = 50


def _status(error: DomainError) -> int:
    return ERROR_STATUS.get(error.code, 400)


def _can(request: HttpRequest) -> dict[str, bool]:
    roles = getattr(request, "organisation_roles", set())
    return {name.replace(".", "_"): roles_grant(roles, name) for name in PERMISSIONS}


def _context(request: HttpRequest, organisation: Any, **extra: Any) -> dict[str, Any]:
    return {"organisation": organisation, "can": _can(request), **extra}


def _consultation_or_404(organisation: Any, pk: int) -> Consultation:
    consultation = selectors.buyer_consultation(organisation=organisation, pk=pk)
    if consultation is None:
        raise Http404
    return consultation


def _detail_url(consultation: Consultation) -> str:
    return reverse("consultations_buyer:detail", args=[consultation.organisation.slug, consultation.pk])


def _actions(consultation: Consultation) -> list[dict[str, str]]:
    """The actions the consultation's effective state allows, for the buyer's page."""
    state = consultation.effective_state
    slug, pk = consultation.organisation.slug, consultation.pk
    found = []

    def add(name: str, label: str, *, danger: bool = False) -> None:
        found.append({"url": reverse(f"consultations_buyer:{name}", args=[slug, pk]), "label": label, "danger": danger})

    if state in (State.DRAFT, State.PUBLISHED):
        add("edit", _("Modifier"))
    if state == State.DRAFT:
        add("publish", _("Publier"))
        add("delete", _("Supprimer le brouillon"), danger=True)
    if state == State.PUBLISHED:
        add("postpone", _("Reporter la date limite"))
    if state == State.CLOSED:
        add("open", _("Enregistrer l'ouverture des plis"))
    if state == State.OPENED:
        add("outcome", _("Prononcer l'issue"))
    if state in (State.PUBLISHED, State.CLOSED):
        add("cancel", _("Annuler la consultation"), danger=True)
    return found


# --- List -------------------------------------------------------------------------------------------


@organisation_view("consultations.view")
@require_http_methods(["GET"])
def consultation_list(request: HttpRequest, organisation: Any) -> HttpResponse:
    form = forms.ListFilterForm(request.GET or None)
    state, query = "", ""
    if form.is_bound and form.is_valid():
        state, query = form.cleaned_data["state"], form.cleaned_data["q"]
    paginator = Paginator(selectors.buyer_consultations(organisation=organisation, state=state, query=query), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    counts = selectors.state_counts(organisation=organisation)
    filters = urlencode({key: value for key, value in (("state", state), ("q", query)) if value})
    return render(
        request,
        "consultations/buyer_list.html",
        _context(
            request,
            organisation,
            form=form,
            page=page,
            counts=[(value, label, counts[value]) for value, label in State.choices],
            filters=filters,
            status_filtered=bool(state or query),
        ),
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


# --- Create and edit --------------------------------------------------------------------------------


def _quiet(form: Any) -> None:
    """Show a bound form again without validating it (an intermediate step, not a save)."""
    form._errors = ErrorDict()


def _quiet_formset(formset: Any) -> None:
    formset._errors = []
    formset._non_form_errors = ErrorList()
    for form in formset.forms:
        _quiet(form)


def _cpv_targets(formset: Any) -> list[tuple[str, str]]:
    targets = [("consultation", _("la consultation"))]
    for index, form in enumerate(formset.forms):
        title = (form.data.get(f"{form.prefix}-title") or "").strip() if form.is_bound else ""
        title = title or (form.initial.get("title") if form.initial else "") or ""
        targets.append(
            (
                f"lot-{index}",
                _("le lot %(number)d%(title)s") % {"number": index + 1, "title": f" ({title})" if title else ""},
            )
        )
    return targets


def _cpv_picker(data: Any, formset: Any) -> dict[str, Any]:
    query = str(data.get("cpv_q", "") if data else "")[:100]
    # The branch shown: the one just asked for ("cpv_expand" button), else where the person was ("cpv_at").
    expand = str((data.get("cpv_expand") if "cpv_expand" in data else data.get("cpv_at", "")) if data else "")
    results = selectors.cpv_search(query) if query.strip() else []
    current = selectors.cpv_code(expand) if expand else None
    if current is not None:
        branch = [*selectors.cpv_ancestors(current), current]
        nodes = selectors.cpv_children(current.code)
    else:
        branch, nodes = [], selectors.cpv_divisions()
    with_children = selectors.cpv_has_children([*nodes, *results])
    return {
        "query": query,
        "results": results,
        "searched": bool(query.strip()),
        "branch": branch,
        "current": current,
        "nodes": nodes,
        "with_children": with_children,
        "targets": _cpv_targets(formset),
        "target": str(data.get("cpv_target", "consultation") if data else "consultation"),
    }


def _pick(data: Any, pick: str) -> None:
    """Put a picked code ("main:45210000" or "add:45210000") into the chosen target's fields of `data`."""
    kind, _sep, code = pick.partition(":")
    if kind not in ("main", "add") or CpvCode.objects.filter(code=code).first() is None:
        return
    target = data.get("cpv_target", "consultation")
    prefix = ""
    if target.startswith("lot-") and target[4:].isdigit():
        prefix = f"lots-{int(target[4:])}-"
    if kind == "main":
        data[f"{prefix}main_cpv"] = code
    else:
        current = data.get(f"{prefix}additional_cpv", "").replace(",", " ").split()
        if code not in current:
            current.append(code)
        data[f"{prefix}additional_cpv"] = " ".join(current)


def _edit(request: HttpRequest, organisation: Any, consultation: Consultation | None) -> HttpResponse:
    published = consultation is not None and consultation.state == State.PUBLISHED
    codes = selectors.codes_of(consultation) if consultation is not None else None
    template = "consultations/buyer_form.html"
    status = 200
    if request.method == "GET":
        initial = forms.ConsultationForm.initial_from(consultation, codes) if consultation else {}
        form = forms.ConsultationForm(initial=initial, organisation=organisation, published=published)
        formset = forms.LotFormSet(prefix="lots", initial=forms.lots_initial(codes) if codes else None)
        picker = _cpv_picker(request.GET, formset)
    else:
        data = request.POST.copy()
        step = next((name for name in ("add_lot", "cpv_search", "cpv_expand", "cpv_pick") if name in data), "")
        if step == "add_lot":
            try:
                total = int(data.get("lots-TOTAL_FORMS", "0"))
            except ValueError:
                total = 0
            data["lots-TOTAL_FORMS"] = str(min(max(total, 0) + 1, 500))
        elif step == "cpv_pick":
            _pick(data, data.get("cpv_pick", ""))
        # The initial values matter for a published consultation: its locked fields are disabled and
        # keep them, whatever the request says.
        initial = forms.ConsultationForm.initial_from(consultation, codes) if consultation else {}
        form = forms.ConsultationForm(data, initial=initial, organisation=organisation, published=published)
        formset = forms.LotFormSet(data, prefix="lots")
        picker = _cpv_picker(data, formset)
        if step:
            _quiet(form)
            _quiet_formset(formset)
        else:
            formset_valid = formset.is_valid()  # a tampered management form is an error of the formset
            if form.is_valid() and formset_valid:
                fields = {**form.service_data(), "lots": formset.lots()}
                try:
                    if consultation is None:
                        consultation = services.consultation_create(
                            acting_user=request.user, organisation=organisation, request=request, **fields
                        )
                        messages.success(request, _("La consultation est créée (brouillon)."))
                    else:
                        services.consultation_update(
                            acting_user=request.user, consultation=consultation, request=request, **fields
                        )
                        messages.success(request, _("Les modifications sont enregistrées."))
                except DomainError as error:
                    forms.add_service_errors(form, error)
                    status = _status(error)
                else:
                    return redirect(_detail_url(consultation))
            else:
                status = 400
    return render(
        request,
        template,
        _context(
            request,
            organisation,
            consultation=consultation,
            form=form,
            formset=formset,
            picker=picker,
            published=published,
        ),
        status=status,
    )


@organisation_view("consultations.manage")
@require_http_methods(["GET", "POST"])
def consultation_create(request: HttpRequest, organisation: Any) -> HttpResponse:
    return _edit(request, organisation, None)


@organisation_view("consultations.manage")
@require_http_methods(["GET", "POST"])
def consultation_edit(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(organisation, pk)
    if consultation.effective_state not in (State.DRAFT, State.PUBLISHED):
        messages.error(
            request,
            _("Une consultation à l'état « %(state)s » ne peut plus être modifiée.")
            % {"state": consultation.get_effective_state_display()},
        )
        return redirect(_detail_url(consultation))
    return _edit(request, organisation, consultation)


@organisation_view("consultations.view")
@require_http_methods(["GET"])
def cpv_picker(request: HttpRequest, organisation: Any) -> HttpResponse:
    """The CPV tree on its own page (plain GET search form and links), or its results for htmx."""
    form = forms.CpvSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_bound and form.is_valid() else ""
    expand = request.GET.get("code", "")
    current = selectors.cpv_code(expand) if expand else None
    nodes = selectors.cpv_children(current.code) if current else selectors.cpv_divisions()
    results = selectors.cpv_search(query) if query else []
    context = _context(
        request,
        organisation,
        form=form,
        query=query,
        results=results,
        searched=bool(query),
        current=current,
        branch=[*selectors.cpv_ancestors(current), current] if current else [],
        nodes=nodes,
        with_children=selectors.cpv_has_children([*nodes, *results]),
    )
    if request.headers.get("HX-Request") == "true":
        return render(request, "consultations/_cpv_results_page.html", context)
    return render(request, "consultations/cpv_picker.html", context)


# --- The buyer's page of one consultation -----------------------------------------------------------


@organisation_view("consultations.view")
@require_http_methods(["GET"])
def consultation_detail(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    consultation = _consultation_or_404(organisation, pk)
    events = selectors.recent_events(consultation=consultation)
    can = _can(request)
    journal = (
        reverse("audit:org_events", args=[organisation.slug])
        + "?"
        + urlencode({"object_type": "consultations.consultation", "object_id": consultation.pk})
    )
    return render(
        request,
        "consultations/buyer_detail.html",
        _context(
            request,
            organisation,
            consultation=consultation,
            codes=selectors.codes_of(consultation),
            actions=_actions(consultation) if can["consultations_manage"] else [],
            events=[(event, action_label(event.action)) for event in events],
            journal_url=journal,
            problems=services.publication_problems(consultation) if consultation.state == State.DRAFT else {},
            answer_delay=services.answer_delay_days(consultation),
        ),
    )


def _action_page(
    request: HttpRequest,
    organisation: Any,
    consultation: Consultation,
    *,
    form: Any,
    title: str,
    intro: str,
    button: str,
    danger: bool = False,
    error: str = "",
    status: int = 200,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    return render(
        request,
        "consultations/buyer_action.html",
        _context(
            request,
            organisation,
            consultation=consultation,
            form=form,
            title=title,
            intro=intro,
            button=button,
            danger=danger,
            error=error,
            answer_delay=services.answer_delay_days(consultation),
            **(extra or {}),
        ),
        status=status,
    )


def _simple_action(
    request: HttpRequest,
    organisation: Any,
    pk: int,
    *,
    call,
    title: str,
    intro: str,
    button: str,
    done: str,
    danger: bool = False,
    form_class: Any = None,
    redirect_to: str | None = None,
    extra=None,
) -> HttpResponse:
    consultation = _consultation_or_404(organisation, pk)
    form = form_class(request.POST or None) if form_class else None
    error, status = "", 200
    if request.method == "POST":
        if form is None or form.is_valid():
            try:
                call(consultation, form.cleaned_data if form is not None else {})
            except DomainError as refused:
                status = _status(refused)
                if form is not None and isinstance(refused, services.InvalidData):
                    forms.add_service_errors(form, refused)
                else:
                    error = refused.message
            else:
                messages.success(request, done)
                return redirect(redirect_to or _detail_url(consultation))
        else:
            status = 400
    return _action_page(
        request,
        organisation,
        consultation,
        form=form,
        title=title,
        intro=intro,
        button=button,
        danger=danger,
        error=error,
        status=status,
        extra=extra(consultation) if extra else None,
    )


@organisation_view("consultations.manage")
@require_http_methods(["GET", "POST"])
def consultation_publish(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    def call(consultation, _data):
        try:
            services.consultation_publish(acting_user=request.user, consultation=consultation, request=request)
        except services.InvalidData as invalid:
            raise DomainError(" ".join(message for items in invalid.errors.values() for message in items)) from None

    return _simple_action(
        request,
        organisation,
        pk,
        call=call,
        title=_("Publier la consultation"),
        intro=_(
            "Une fois publiée, la consultation est visible de tous sur le portail ; sa référence, sa procédure, "
            "son type de marché restent fixés et sa date limite ne peut plus qu'être reportée."
        ),
        button=_("Publier maintenant"),
        done=_("La consultation est publiée."),
        extra=lambda consultation: {
            "problems": services.publication_problems(consultation),
            "show_dates": True,
        },
    )


@organisation_view("consultations.manage")
@require_http_methods(["GET", "POST"])
def consultation_postpone(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    return _simple_action(
        request,
        organisation,
        pk,
        form_class=forms.PostponeForm,
        call=lambda consultation, data: services.consultation_postpone_deadline(
            acting_user=request.user, consultation=consultation, request=request, **data
        ),
        title=_("Reporter la date limite de remise des plis"),
        intro=_(
            "La date limite ne peut être que reportée, jamais avancée. Le motif est enregistré au journal ; "
            "les entreprises qui suivent la consultation en sont informées."
        ),
        button=_("Reporter la date limite"),
        done=_("La date limite est reportée."),
        extra=lambda consultation: {"show_dates": True},
    )


@organisation_view("consultations.manage")
@require_http_methods(["GET", "POST"])
def consultation_open(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    return _simple_action(
        request,
        organisation,
        pk,
        call=lambda consultation, _data: services.consultation_open(
            acting_user=request.user, consultation=consultation, request=request
        ),
        title=_("Enregistrer l'ouverture des plis"),
        intro=_("La date limite est passée : enregistrez ici l'ouverture des plis reçus."),
        button=_("Enregistrer l'ouverture"),
        done=_("L'ouverture des plis est enregistrée."),
    )


@organisation_view("consultations.manage")
@require_http_methods(["GET", "POST"])
def consultation_outcome(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    return _simple_action(
        request,
        organisation,
        pk,
        form_class=forms.OutcomeForm,
        call=lambda consultation, data: services.consultation_set_outcome(
            acting_user=request.user, consultation=consultation, request=request, **data
        ),
        title=_("Prononcer l'issue de la consultation"),
        intro=_("Attribuée, infructueuse (aucune offre acceptable) ou sans suite (abandon de la procédure)."),
        button=_("Enregistrer l'issue"),
        done=_("L'issue de la consultation est enregistrée."),
    )


@organisation_view("consultations.manage")
@require_http_methods(["GET", "POST"])
def consultation_cancel(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    return _simple_action(
        request,
        organisation,
        pk,
        form_class=forms.ReasonForm,
        call=lambda consultation, data: services.consultation_cancel(
            acting_user=request.user, consultation=consultation, request=request, **data
        ),
        title=_("Annuler la consultation"),
        intro=_("L'annulation est définitive. Le motif est affiché sur la page publique de la consultation."),
        button=_("Annuler la consultation"),
        done=_("La consultation est annulée."),
        danger=True,
    )


@organisation_view("consultations.manage")
@require_http_methods(["GET", "POST"])
def consultation_delete(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    return _simple_action(
        request,
        organisation,
        pk,
        call=lambda consultation, _data: services.consultation_delete_draft(
            acting_user=request.user, consultation=consultation, request=request
        ),
        title=_("Supprimer le brouillon"),
        intro=_("Le brouillon et ses lots sont supprimés définitivement. La suppression reste inscrite au journal."),
        button=_("Supprimer le brouillon"),
        done=_("Le brouillon est supprimé."),
        danger=True,
        redirect_to=reverse("consultations_buyer:list", args=[organisation.slug]),
    )


# --- Public page ------------------------------------------------------------------------------------


# The lots and codes part of the public page, rendered once per (consultation, version, language) and kept
# in this process. Always fresh: every change to the lots or codes saves the consultation, which moves its
# `updated_at` (part of the key, read with the consultation on every request, so other processes see it at
# once); in this process a save also empties the copies (two saves in one clock tick, as under a frozen
# test clock, leave the same stamp).
_CODES_HTML: dict[tuple, str] = {}
_CODES_HTML_MAX = 1024


def _forget_codes_html(**kwargs: Any) -> None:
    _CODES_HTML.clear()
    pagecache.clear()


def _forget_pages(**kwargs: Any) -> None:
    pagecache.clear()


# A change saved in this process is seen at once even when the clock has not moved (tests freeze it);
# a change saved by another process changes `updated_at` and the page's stamp
# (`selectors.public_consultation_row`).
for _model in (Consultation, Lot):
    post_save.connect(_forget_codes_html, sender=_model, dispatch_uid=f"consultations_codes_html_{_model.__name__}")
    post_delete.connect(_forget_codes_html, sender=_model, dispatch_uid=f"consultations_codes_html_d_{_model.__name__}")
for _name in ("dce.DceVersion", "questions.Question", "sealing.ConsultationKey"):
    post_save.connect(_forget_pages, sender=_name, dispatch_uid=f"consultations_pages_{_name}")
    post_delete.connect(_forget_pages, sender=_name, dispatch_uid=f"consultations_pages_d_{_name}")


def _codes_html(consultation: Consultation) -> str:
    key = (consultation.pk, consultation.updated_at, get_language())
    html = _CODES_HTML.get(key)
    if html is None:
        html = render_to_string("consultations/_codes.html", {"codes": selectors.public_codes_of(consultation)})
        if len(_CODES_HTML) >= _CODES_HTML_MAX:
            _CODES_HTML.clear()
        _CODES_HTML[key] = html
    return html


def _common_visitor(request: HttpRequest) -> bool:
    """A visitor who sees the common version of public pages (`core.pagecache.common_visitor`: not signed
    in, no cookie of their own but the CSRF, language and session ones — a tender-file downloader who
    identified themselves carries a cookie of the DCE, and sees their own version) and no query string."""
    return not request.GET and pagecache.common_visitor(request)


@public(reason="the public page of a published consultation: drafts answer 404")
@require_http_methods(["GET", "HEAD"])
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.public_consultation_row(pk=pk)
    if found is None:
        raise Http404
    consultation, stamp = found

    def page(**extra: Any) -> HttpResponse:
        context = {
            "consultation": consultation,
            "codes_html": _codes_html(consultation),
            "answer_delay": services.answer_delay_days(consultation),
            "documents": [line.strip() for line in consultation.required_documents.splitlines() if line.strip()],
            **extra,
        }
        article = mark_safe(render_to_string("consultations/_public_article.html", context, request=request))  # noqa: S308 (rendered by our templates)
        return render(
            request, "consultations/public_detail.html", {**extra, "consultation": consultation, "article": article}
        )

    if not _common_visitor(request):
        return page()
    # The whole page is kept for the common visitor. Everything time-dependent it shows is decided by the
    # effective state and whether questions are open: both are in the key with the stamp of the data.
    key = "|".join(("consultation", str(pk), stamp, consultation.effective_state, str(consultation.accepts_questions)))
    return pagecache.kept_page(request, key, lambda extra: (page(**extra), True))
