"""The opening pages of a consultation (bids.open: the buyer's staff and commission members).

Before the deadline: when the opening becomes possible, and the number of deposits only. After it: the
form (members present and their passphrases, backup copies to open). During the job: its progress. After:
the report, the opened files (this buyer's only) and the PDF report."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from ebourgogne.consultations.models import Consultation
from ebourgogne.core.access import organisation_view
from ebourgogne.core.errors import DomainError
from ebourgogne.tenders import opening as service
from ebourgogne.tenders.models import Bid, BidState, OpenedFile, OpenedStatus, Opening, OpeningState

OPEN = "bids.open"
ERROR_STATUS = {"not_found": 404, "forbidden": 403, "busy": 409, "too_early": 409}


def _consultation(organisation: Any, pk: int) -> Consultation:
    consultation = (
        Consultation.objects.filter(pk=pk, organisation=organisation, is_practice=False)
        .select_related("organisation")
        .first()
    )
    if consultation is None:
        raise Http404
    return consultation


def _page_url(consultation: Consultation) -> str:
    return reverse("tenders_opening:page", args=[consultation.organisation.slug, consultation.pk])


def _context(request: HttpRequest, organisation: Any, consultation: Consultation, **extra: Any) -> dict[str, Any]:
    context: dict[str, Any] = {
        "organisation": organisation,
        "consultation": consultation,
        "deadline_passed": consultation.deadline_passed,
        "page_url": _page_url(consultation),
    }
    if not consultation.deadline_passed:
        # Before the deadline the buyer sees the number of deposits, nothing else.
        context["deposit_count"] = Bid.objects.filter(consultation=consultation, state=BidState.DEPOSITED).count()
        context.update(extra)
        return context
    latest = service.latest_opening(consultation)
    openings = service.done_openings(consultation)
    situation = service.bid_situation(consultation)
    backups = [bid for bid in situation.backups if bid.opened_at is None and bid.destroyed_at is None]
    running = latest is not None and latest.state == OpeningState.RUNNING
    can_start = not running and (
        (not openings and consultation.state in service.OPENABLE_STATES)
        or (openings and consultation.state == "opened" and bool(backups))
    )
    context.update(
        {
            "latest": latest,
            "running": running,
            "progress": _progress(latest) if running else None,
            "openings": [_opening_view(item) for item in reversed(openings)],
            "can_start": can_start,
            "first": not openings,
            "holders": service.share_holders(consultation),
            "threshold": getattr(getattr(consultation, "opening_key", None), "threshold", None),
            "backups": backups,
            "cases": service.BackupCase.choices,
            "situation": situation,
            "posted": {},
        }
    )
    context.update(extra)
    return context


def _progress(opening: Opening) -> dict[str, int]:
    planned = opening.report.get("plan", {}).get("bids", [])
    from ebourgogne.tenders.models import BidFile

    total = BidFile.objects.filter(bid_id__in=planned).count()
    done = OpenedFile.objects.filter(opening=opening).count()
    return {"total": total, "done": done, "percent": int(100 * done / total) if total else 100}


def _opening_view(opening: Opening) -> dict[str, Any]:
    files = {opened.pk: opened for opened in opening.files.all()}
    report = opening.report
    for bid in report.get("opened", []):
        for entry in bid.get("files", []):
            entry["downloadable"] = bool(entry.get("file") in files and files[entry["file"]].storage_name)
            entry["status_label"] = (
                str(OpenedStatus(entry["status"]).label)
                if entry.get("status") in OpenedStatus.values
                else entry.get("status")
            )
        if bid.get("backup_case"):
            bid["case_label"] = str(service.BackupCase(bid["backup_case"]["case"]).label)
    return {"opening": opening, "report": report}


@organisation_view(OPEN)
@require_GET
def page(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    return render(request, "tenders/opening/page.html", _context(request, organisation, consultation))


@organisation_view(OPEN)
@require_GET
def progress(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    """The progress block (polled by htmx while the job runs; the whole page when it is over)."""
    consultation = _consultation(organisation, pk)
    context = _context(request, organisation, consultation)
    if not context.get("running") and request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = _page_url(consultation)
        return response
    return render(request, "tenders/opening/_progress.html", context)


def _backup_cases(request: HttpRequest) -> list[dict[str, Any]]:
    cases = []
    for name, value in request.POST.items():
        if name.startswith("backup-") and name.endswith("-case") and value:
            bid = name.removeprefix("backup-").removesuffix("-case")
            if not bid.isdigit():
                continue
            cases.append({"bid": int(bid), "case": value, "reason": request.POST.get(f"backup-{bid}-reason", "")})
    return cases


@organisation_view(OPEN)
@require_POST
def start(request: HttpRequest, organisation: Any, pk: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    holders = service.share_holders(consultation)
    contributions = [(holder, request.POST.get(f"passphrase-{holder.pk}", "")) for holder in holders]
    cases = _backup_cases(request)
    try:
        service.opening_start(
            acting_user=request.user,
            consultation=consultation,
            contributions=contributions,
            backup_cases=cases,
            request=request,
        )
    except DomainError as error:
        posted = {
            "present": {holder.pk for holder, passphrase in contributions if passphrase},
            "cases": {case["bid"]: case for case in cases},
        }
        context = _context(request, organisation, consultation, error=str(error), posted=posted)
        return render(request, "tenders/opening/page.html", context, status=ERROR_STATUS.get(error.code, 400))
    return redirect(_page_url(consultation))


@organisation_view(OPEN)
@require_GET
def report_pdf(request: HttpRequest, organisation: Any, pk: int, opening_pk: int) -> HttpResponse:
    consultation = _consultation(organisation, pk)
    found = Opening.objects.filter(pk=opening_pk, consultation=consultation, state=OpeningState.DONE).first()
    if found is None:
        raise Http404
    response = HttpResponse(service.report_pdf(found), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="pv-ouverture-{consultation.pk}-{found.pk}.pdf"'
    return response


@organisation_view(OPEN)
@require_GET
def download(request: HttpRequest, organisation: Any, pk: int, file_pk: int) -> HttpResponse:
    """An opened (decrypted) file of this buyer's consultation, for evaluation."""
    consultation = _consultation(organisation, pk)
    opened = service.opened_file(consultation, file_pk)
    if opened is None or not default_storage.exists(opened.storage_name):
        raise Http404(_("Fichier introuvable."))
    name = opened.bid_file.name.removesuffix(".age") or "fichier"
    response = FileResponse(default_storage.open(opened.storage_name, "rb"), as_attachment=True, filename=name)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
