"""The public page of the essential data of contracts (DECP): the daily files (JSON and XML) to download,
with their size and SHA-256, what the data are, and the bulk API. Open data: no account needed."""

from __future__ import annotations

import datetime as dt

from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from ebourgogne.contracts.models import DECP_THRESHOLD, DecpDailyFile
from ebourgogne.core.access import public

PAGE_SIZE = 62
FORMATS = {"json": ("json_storage_name", "application/json"), "xml": ("xml_storage_name", "application/xml")}


def _size(name: str, recorded: int | None = None) -> int | None:
    """The recorded size; for a file built before sizes were recorded, the storage's."""
    if recorded is not None:
        return recorded
    try:
        return default_storage.size(name)
    except (OSError, NotImplementedError):
        return None


@require_GET
@public(reason="open data: the daily files of the essential data of contracts (DECP)")
def index(request: HttpRequest) -> HttpResponse:
    page = Paginator(DecpDailyFile.objects.order_by("-day"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "file": item,
            "json_size": _size(item.json_storage_name, item.json_size),
            "xml_size": _size(item.xml_storage_name, item.xml_size),
        }
        for item in page
    ]
    return render(
        request,
        "contracts/decp/index.html",
        {"page": page, "rows": rows, "threshold": DECP_THRESHOLD, "api_url": "/api/v1/decp"},
    )


@require_GET
@public(reason="open data: one daily file of the essential data of contracts (DECP)")
def download(request: HttpRequest, day: str, fmt: str) -> FileResponse:
    if fmt not in FORMATS:
        raise Http404
    try:
        date = dt.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    item = DecpDailyFile.objects.filter(day=date).first()
    if item is None:
        raise Http404
    field, content_type = FORMATS[fmt]
    try:
        handle = default_storage.open(getattr(item, field), "rb")
    except (OSError, FileNotFoundError):
        raise Http404 from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=f"decp-{date:%Y-%m-%d}.{fmt}",
        content_type=f"{content_type}; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=86400"
    return response
