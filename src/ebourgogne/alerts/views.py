"""Pages of alerts: the user's alerts and followed consultations (/compte/alertes/), the private Atom
feed and the one-click unsubscribe (/alertes/, public: proven by a secret or a signed token)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from ebourgogne.alerts import forms, selectors, services
from ebourgogne.core.access import authenticated, public
from ebourgogne.core.errors import DomainError
from ebourgogne.search.selectors import consultation_url_template

ONE_CLICK = {"List-Unsubscribe": ["One-Click"]}


def _alert_or_404(request: HttpRequest, pk: int):
    alert = selectors.owned_alert(request.user, pk)
    if alert is None:
        raise Http404
    return alert


def _feed_url(request: HttpRequest, alert) -> str:
    return request.build_absolute_uri(reverse("alerts_public:feed", kwargs={"token": alert.feed_token}))


@authenticated
@require_safe
def alert_list(request: HttpRequest) -> HttpResponse:
    alerts = selectors.alerts_of(request.user)
    for alert in alerts:
        alert.feed_address = _feed_url(request, alert)
    return render(
        request,
        "alerts/list.html",
        {
            "alerts": alerts,
            "followed": selectors.followed_consultations(request.user),
            "companies": services.companies_of(request.user),
            "url_template": consultation_url_template(),
        },
    )


def _apply_errors(form, error: DomainError) -> None:
    field = error.code if error.code in form.fields else None
    form.add_error(field, error.message)


@authenticated
@require_http_methods(["GET", "POST"])
def alert_create(request: HttpRequest) -> HttpResponse:
    companies = services.companies_of(request.user)
    if request.method == "POST":
        form = forms.AlertForm(request.POST, companies=companies)
        if form.is_valid():
            try:
                services.create_alert(
                    owner=request.user,
                    name=form.cleaned_data["name"],
                    criteria=form.criteria(),
                    delivery=form.cleaned_data["delivery"],
                    company=form.cleaned_data.get("company") or (companies[0].pk if len(companies) == 1 else None),
                    request=request,
                )
            except DomainError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("L'alerte est créée."))
                return redirect("alerts:list")
    else:
        form = forms.AlertForm(initial=forms.initial_from_search(request.GET), companies=companies)
    status = 400 if request.method == "POST" else 200
    return render(request, "alerts/form.html", {"form": form, "companies": companies, "alert": None}, status=status)


@authenticated
@require_http_methods(["GET", "POST"])
def alert_edit(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    companies = services.companies_of(request.user)
    if request.method == "POST":
        form = forms.AlertForm(request.POST, companies=companies)
        if form.is_valid():
            try:
                services.update_alert(
                    alert=alert,
                    acting_user=request.user,
                    name=form.cleaned_data["name"],
                    criteria=form.criteria(),
                    delivery=form.cleaned_data["delivery"],
                    company=form.cleaned_data.get("company") if "company" in form.fields else alert.company_id,
                    request=request,
                )
            except DomainError as error:
                _apply_errors(form, error)
            else:
                messages.success(request, _("L'alerte est enregistrée."))
                return redirect("alerts:list")
    else:
        form = forms.AlertForm(
            initial={
                "name": alert.name,
                "q": alert.q,
                "cpv_codes": " ".join(alert.cpv_codes),
                "departments": alert.departments,
                "buyers": " ".join(alert.buyers),
                "procedures": alert.procedures,
                "contract_types": alert.contract_types,
                "value_min": "" if alert.value_min is None else alert.value_min,
                "value_max": "" if alert.value_max is None else alert.value_max,
                "delivery": alert.delivery,
                "company": "" if alert.company_id is None else str(alert.company_id),
            },
            companies=companies,
        )
    status = 400 if request.method == "POST" else 200
    return render(request, "alerts/form.html", {"form": form, "companies": companies, "alert": alert}, status=status)


@authenticated
@require_POST
def alert_pause(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    active = request.POST.get("active") == "1"
    services.set_active(alert=alert, acting_user=request.user, active=active, request=request)
    messages.success(request, _("L'alerte est réactivée.") if active else _("L'alerte est en pause."))
    return redirect("alerts:list")


@authenticated
@require_http_methods(["GET", "POST"])
def alert_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    if request.method == "POST":
        services.delete_alert(alert=alert, acting_user=request.user, request=request)
        messages.success(request, _("L'alerte est supprimée."))
        return redirect("alerts:list")
    return render(request, "alerts/delete.html", {"alert": alert})


@authenticated
@require_POST
def alert_feed_regenerate(request: HttpRequest, pk: int) -> HttpResponse:
    alert = _alert_or_404(request, pk)
    services.regenerate_feed_token(alert=alert, acting_user=request.user, request=request)
    messages.success(request, _("Le flux a une nouvelle adresse : l'ancienne ne fonctionne plus."))
    return redirect("alerts:list")


@authenticated
@require_POST
def follow_stop(request: HttpRequest, consultation_id: int) -> HttpResponse:
    followed = {entry["consultation"].pk for entry in selectors.followed_consultations(request.user)}
    if consultation_id not in followed:
        raise Http404
    services.stop_following(consultation_id=consultation_id, email=request.user.email, acting_user=request.user)
    messages.success(request, _("Vous ne recevrez plus de courriel sur cette consultation."))
    return redirect("alerts:list")


# --- Public: feed and unsubscribe -------------------------------------------------------------------------


@public(reason="alerts: private Atom feed of one alert, proven by its secret token")
@require_safe
def feed(request: HttpRequest, token: str) -> HttpResponse:
    alert = selectors.alert_for_feed(token)
    if alert is None:
        raise Http404
    url = consultation_url_template()
    atom = Atom1Feed(
        title=_("Alerte « %(name)s » — e-bourgogne") % {"name": alert.name},
        link=request.build_absolute_uri(reverse("search:search")),
        description=_("Les consultations trouvées par l'alerte, les plus récentes d'abord."),
        language=get_language() or "fr",
        feed_url=request.build_absolute_uri(),
        feed_guid=request.build_absolute_uri(),
    )
    for entry, matched_at in selectors.recent_matches(alert):
        link = request.build_absolute_uri(url.format(pk=entry.consultation_id))
        deadline = timezone.localtime(entry.bids_deadline).strftime("%d/%m/%Y %H:%M")
        atom.add_item(
            title=entry.title,
            link=link,
            unique_id=link,
            description=_("%(buyer)s — %(reference)s — date limite : %(deadline)s (heure de Paris)")
            % {"buyer": entry.buyer_name, "reference": entry.reference, "deadline": deadline},
            author_name=entry.buyer_name,
            pubdate=matched_at,
            updateddate=matched_at,
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    atom.write(response, "utf-8")
    response["X-Robots-Tag"] = "noindex"
    response["Cache-Control"] = "private, no-store"
    return response


def _one_click(request: HttpRequest) -> bool:
    """RFC 8058: the body is exactly List-Unsubscribe=One-Click (form-encoded or multipart)."""
    return {key: request.POST.getlist(key) for key in request.POST} == ONE_CLICK and not request.FILES


def _link_page(request: HttpRequest, template: str, context: dict, error: DomainError | None = None):
    if error is not None:
        status = 410 if isinstance(error, services.ExpiredLink) else 404
        return render(request, template, {**context, "error": error.message}, status=status)
    return render(request, template, context)


@csrf_exempt  # RFC 8058: the mail client posts without a session nor a CSRF token; the signed token is the proof
@public(reason="alerts: one-click unsubscribe from an alert mail, proven by a signed token (RFC 8058)")
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        alert = services.alert_from_token(token)
    except DomainError as error:
        return _link_page(request, "alerts/unsubscribe.html", {}, error)
    done = False
    if request.method == "POST":
        if not _one_click(request):
            return render(
                request,
                "alerts/unsubscribe.html",
                {"alert": alert, "error": _("Demande de désabonnement incomplète : utilisez le bouton ci-dessous.")},
                status=400,
            )
        alert = services.unsubscribe(token=token, request=request)
        done = True
    return render(request, "alerts/unsubscribe.html", {"alert": alert, "done": done or not alert.is_active})


@csrf_exempt  # RFC 8058, as above
@public(reason="alerts: one-click stop of a followed consultation's mails, proven by a signed token (RFC 8058)")
@require_http_methods(["GET", "POST"])
def follow_unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    try:
        consultation_id, email = services.follow_from_token(token)
    except DomainError as error:
        return _link_page(request, "alerts/follow_unsubscribe.html", {}, error)
    from ebourgogne.search.models import SearchEntry

    entry = SearchEntry.objects.filter(pk=consultation_id).first()
    context = {"entry": entry, "email": email, "done": services.is_muted(consultation_id, email)}
    if request.method == "POST":
        if not _one_click(request):
            context["error"] = _("Demande de désabonnement incomplète : utilisez le bouton ci-dessous.")
            return render(request, "alerts/follow_unsubscribe.html", context, status=400)
        services.stop_following(consultation_id=consultation_id, email=email, acting_user=None)
        context["done"] = True
    return render(request, "alerts/follow_unsubscribe.html", context)
