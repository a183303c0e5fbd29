"""Bid pages. Thin: access through `core.access`, reads through `selectors`, changes through `services`.

- Company (`bids.submit`), /organisations/<org>/offres/: the company's bids, a bid page (lots, envelopes,
  files with their upload state, remove, deposit with confirmation), the deposit result with its receipt.
- Buyer (`bids.register`), /organisations/<org>/consultations/<pk>/plis/: before the deadline the number
  of deposits only; after it the deposit register, and its CSV export.
- Public, /consultations/<pk>/depot/: choose one of your companies, then go to its new bid.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.core.access import authenticated, organisation_view, resolve_organisation
from ebourgogne.core.errors import DomainError
from ebourgogne.tenders import forms, selectors, services
from ebourgogne.tenders.limits import CHUNK_SIZE
from ebourgogne.tenders.models import BidState


def _row_id(pk: int) -> int:
    """A URL's number that can name a row; any other is a page that does not exist (SQLite would overflow)."""
    if not 0 < int(pk) < 2**63:
        raise Http404
    return int(pk)


def _status(error: DomainError) -> int:
    return services.status_of(error)


def receipt_links(organisation: Any, bid: Any) -> dict[str, str]:
    """The receipt's PDF and JSON pages (tenders_receipts), when they exist."""
    links = {}
    for key, name in (("pdf", "tenders_receipts:pdf"), ("json", "tenders_receipts:json")):
        try:
            links[key] = reverse(name, kwargs={"org_slug": organisation.slug, "bid_pk": bid.pk})
        except NoReverseMatch:
            continue
    return links


def public_consultation_url(consultation: Consultation) -> str:
    try:
        return reverse("consultations_public:detail", args=[consultation.pk])
    except NoReverseMatch:
        return f"/consultations/{consultation.pk}/"


# --- Company ----------------------------------------------------------------------------------------


@organisation_view("bids.submit")
def bid_list(request: HttpRequest, organisation: Any) -> HttpResponse:
    bids = list(selectors.company_bids(organisation))
    rows = [{"bid": bid, "status": selectors.bid_status(bid), "lots": selectors.lot_numbers(bid)} for bid in bids]
    return render(request, "tenders/company/list.html", {"organisation": organisation, "rows": rows})


def _bid_or_404(organisation: Any, bid_pk: int):
    bid = selectors.company_bid(organisation, bid_pk)
    if bid is None:
        raise Http404
    return bid


def _bid_context(organisation: Any, bid: Any) -> dict[str, Any]:
    consultation = bid.consultation
    files = selectors.bid_files(bid)
    key = getattr(consultation, "opening_key", None)
    return {
        "organisation": organisation,
        "bid": bid,
        "consultation": consultation,
        "consultation_url": public_consultation_url(consultation),
        "status": selectors.bid_status(bid),
        "lots": selectors.lot_numbers(bid),
        "files": files,
        "total_size": sum(f.size for f in files),
        "all_complete": bool(files) and all(f.state == "complete" for f in files),
        "deadline_passed": consultation.deadline_passed,
        "will_be_late": selectors.will_be_late(bid),
        "receipt": selectors.receipt_of(bid) if bid.state == BidState.DEPOSITED else None,
        "receipt_links": receipt_links(organisation, bid) if bid.state == BidState.DEPOSITED else {},
        # What the uploader (tenders/_uploader.html) reads besides consultation, organisation and bid.
        "uploader": {
            "bid_url": f"/api/v1/companies/{organisation.slug}/bids/{bid.pk}",
            "files_url": f"/api/v1/companies/{organisation.slug}/bids/{bid.pk}/files",
            "uploads_url": f"/api/v1/companies/{organisation.slug}/uploads/",
            "key_url": f"/api/v1/consultations/{consultation.pk}/opening-key",
            "recipient": key.recipient if key else "",
            "fingerprint": key.fingerprint if key else "",
            "chunk_size": CHUNK_SIZE,
            "size_limit": consultation.bid_size_limit,
            "deadline": consultation.bids_deadline.isoformat() if consultation.bids_deadline else "",
            "server_time": clock.now().isoformat(),
            "envelopes": [("application", _("Candidature")), ("offer", _("Offre"))],
        },
        "deposit_form": forms.DepositForm(),
    }


@organisation_view("bids.submit")
def bid_detail(request: HttpRequest, organisation: Any, bid_pk: int) -> HttpResponse:
    bid = _bid_or_404(organisation, bid_pk)
    return render(request, "tenders/company/bid.html", _bid_context(organisation, bid))


@organisation_view("bids.submit")
@require_POST
def file_remove(request: HttpRequest, organisation: Any, bid_pk: int, upload_id: Any) -> HttpResponse:
    bid = _bid_or_404(organisation, bid_pk)
    bid_file = selectors.company_file(organisation, upload_id)
    if bid_file is None or bid_file.bid_id != bid.pk:
        raise Http404
    try:
        services.file_remove(acting_user=request.user, company=organisation, bid_file=bid_file, request=request)
    except DomainError as error:
        messages.error(request, str(error.message))
        return redirect("tenders_company:bid", org_slug=organisation.slug, bid_pk=bid.pk)
    messages.success(request, _("Le fichier « %(name)s » a été retiré du pli.") % {"name": bid_file.name})
    return redirect("tenders_company:bid", org_slug=organisation.slug, bid_pk=bid.pk)


@organisation_view("bids.submit")
@require_http_methods(["GET", "POST"])
def bid_deposit(request: HttpRequest, organisation: Any, bid_pk: int) -> HttpResponse:
    """Confirm (GET) and deposit (POST) the bid; the answer is the deposit result page."""
    bid = _bid_or_404(organisation, bid_pk)
    context = _bid_context(organisation, bid)
    if bid.state != BidState.DRAFT:
        return redirect("tenders_company:result", org_slug=organisation.slug, bid_pk=bid.pk)
    if request.method == "GET":
        return render(request, "tenders/company/confirm.html", context)
    form = forms.DepositForm(request.POST)
    if not form.is_valid():
        context["deposit_form"] = form
        return render(request, "tenders/company/confirm.html", context, status=400)
    try:
        services.bid_deposit(
            acting_user=request.user,
            company=organisation,
            bid=bid,
            physical_backup=form.cleaned_data["physical_backup"],
            request=request,
        )
    except DomainError as error:
        context["error"] = str(error.message)
        return render(request, "tenders/company/confirm.html", context, status=_status(error))
    return redirect("tenders_company:result", org_slug=organisation.slug, bid_pk=bid.pk)


@organisation_view("bids.submit")
def bid_result(request: HttpRequest, organisation: Any, bid_pk: int) -> HttpResponse:
    bid = _bid_or_404(organisation, bid_pk)
    if bid.state != BidState.DEPOSITED:
        return redirect("tenders_company:bid", org_slug=organisation.slug, bid_pk=bid.pk)
    return render(request, "tenders/company/result.html", _bid_context(organisation, bid))


@organisation_view("bids.submit")
@require_http_methods(["GET", "POST"])
def bid_new(request: HttpRequest, organisation: Any, consultation_pk: int) -> HttpResponse:
    """Start a bid on a consultation: lots and kind (GET shows the form)."""
    with scopes_disabled():
        consultation = Consultation.objects.select_related("organisation").filter(pk=_row_id(consultation_pk)).first()
        lots = list(consultation.lots.order_by("number")) if consultation is not None else []
    if consultation is None or not consultation.is_public:
        raise Http404
    form = forms.BidForm(request.POST or None, lots=lots)
    context = {
        "organisation": organisation,
        "consultation": consultation,
        "consultation_url": public_consultation_url(consultation),
        "form": form,
        "deadline_passed": consultation.deadline_passed,
    }
    if request.method == "POST":
        if not form.is_valid():
            return render(request, "tenders/company/new.html", context, status=400)
        try:
            bid = services.bid_create(
                acting_user=request.user,
                company=organisation,
                consultation_id=consultation.pk,
                lots=[int(number) for number in form.cleaned_data["lots"]],
                kind=form.cleaned_data["kind"],
                request=request,
            )
        except DomainError as error:
            context["error"] = str(error.message)
            return render(request, "tenders/company/new.html", context, status=_status(error))
        return redirect("tenders_company:bid", org_slug=organisation.slug, bid_pk=bid.pk)
    return render(request, "tenders/company/new.html", context)


# --- Public entry -------------------------------------------------------------------------------------


@authenticated
@require_http_methods(["GET", "POST"])
def public_entry(request: HttpRequest, pk: int) -> HttpResponse:
    """Choose the company to bid for; with a single company, go straight to its new bid. The company comes
    from the form and is resolved through the access layer (bids.submit): 404 to a stranger, 403 without
    the role."""
    with scopes_disabled():
        consultation = Consultation.objects.filter(pk=_row_id(pk)).select_related("organisation").first()
    if consultation is None or not consultation.is_public:
        raise Http404
    companies = selectors.submitting_companies(request.user)
    if request.method == "POST":
        slug = request.POST.get("company", "")
        company = resolve_organisation(request, slug, "bids.submit")
        return redirect("tenders_company:new", org_slug=company.slug, consultation_pk=consultation.pk)
    if len(companies) == 1:
        return redirect("tenders_company:new", org_slug=companies[0].slug, consultation_pk=consultation.pk)
    return render(
        request,
        "tenders/public/choose.html",
        {
            "consultation": consultation,
            "companies": companies,
            "consultation_url": public_consultation_url(consultation),
        },
    )


# --- Buyer --------------------------------------------------------------------------------------------


def _own_consultation(organisation: Any, pk: int) -> Consultation:
    consultation = (
        Consultation.objects.filter(organisation=organisation, pk=_row_id(pk)).select_related("organisation").first()
    )
    if consultation is None:
        raise Http404
    return consultation


def _consultation_buyer_url(consultation: Consultation) -> str:
    try:
        return reverse("consultations_buyer:detail", args=[consultation.organisation.slug, consultation.pk])
    except NoReverseMatch:
        return reverse("organisations:detail", args=[consultation.organisation.slug])


@organisation_view("bids.register")
def register(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    consultation = _own_consultation(organisation, pk)
    entries = selectors.deposit_register(consultation)
    return render(
        request,
        "tenders/buyer/register.html",
        {
            "organisation": organisation,
            "consultation": consultation,
            "consultation_url": _consultation_buyer_url(consultation),
            "count": selectors.deposit_count(consultation),
            "entries": entries,
            "incidents": selectors.incidents_around(consultation) if entries is not None else [],
        },
    )


@organisation_view("bids.register")
def register_csv(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    consultation = _own_consultation(organisation, pk)
    entries = selectors.deposit_register(consultation)
    if entries is None:
        messages.info(request, _("Le registre des dépôts n'est disponible qu'après la date limite de remise des plis."))
        return redirect("tenders_buyer:register", org_slug=organisation.slug, pk=consultation.pk)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="registre-depots-{consultation.reference}.csv"'
    response.write("\ufeff")  # Excel reads UTF-8 with a BOM
    writer = csv.writer(response, delimiter=";")
    writer.writerow(
        [
            _("Numéro"),
            _("Entreprise"),
            _("SIRET/SIREN"),
            _("Déposé le (heure de Paris)"),
            _("Hors délai"),
            _("Remplacé par le dépôt"),
            _("Copie de sauvegarde"),
            _("Copie papier annoncée"),
            _("Envoi commencé le (heure de Paris)"),
            _("Lots"),
            _("Fichiers"),
            _("Taille (octets)"),
            _("Accusé de réception"),
            _("Empreinte SHA-256 de l'accusé"),
        ]
    )

    def local(value: Any) -> str:
        return timezone.localtime(value, clock.PARIS).strftime("%d/%m/%Y %H:%M:%S") if value else ""

    yes, no = _("oui"), _("non")
    for entry in entries:
        writer.writerow(
            [
                entry.number,
                _csv_safe(entry.company),
                entry.siret,
                local(entry.deposited_at),
                yes if entry.late else no,
                entry.superseded_by or "",
                yes if entry.backup else no,
                yes if entry.physical_backup else no,
                local(entry.upload_started_at),
                " ".join(map(str, entry.lots)),
                entry.file_count,
                entry.total_size,
                entry.receipt_number,
                entry.receipt_digest,
            ]
        )
    return response


def _csv_safe(value: str) -> str:
    """A cell a spreadsheet will not take for a formula."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
