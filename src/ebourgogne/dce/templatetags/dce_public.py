"""Template tags of the DCE: the public block of a consultation page, the buyer's block, file formats."""

from __future__ import annotations

from django import template

from ebourgogne.dce import selectors, services

register = template.Library()

# Readable names of common formats; anything else shows its extension.
FORMATS = {
    "application/pdf": "PDF",
    "application/zip": "ZIP",
    "application/msword": "Word",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "Word (DOCX)",
    "application/vnd.ms-excel": "Excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "Excel (XLSX)",
    "application/vnd.oasis.opendocument.text": "OpenDocument texte (ODT)",
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument tableur (ODS)",
    "image/vnd.dwg": "DWG",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "text/plain": "Texte",
    "text/csv": "CSV",
}


@register.filter
def file_format(dce_file) -> str:
    known = FORMATS.get(dce_file.content_type)
    if known:
        return known
    name = getattr(dce_file, "name", "")
    if "." in name:
        return name.rsplit(".", 1)[-1].upper()[:10]
    return dce_file.content_type


@register.filter
def human_size(size) -> str:
    return services.human_size(size or 0)


@register.inclusion_tag("dce/public_block.html", takes_context=True)
def dce_public_block(context, consultation):
    from ebourgogne.dce.forms import IdentifyForm
    from ebourgogne.dce.views import account_company, identified_downloader_id

    request = context.get("request")
    dce = selectors.public_dce(consultation)
    downloader_id = identified_downloader_id(request, consultation.pk) if request is not None else None
    company = account_company(request) if request is not None and downloader_id is None else None
    form = IdentifyForm(initial={"next": request.get_full_path() if request is not None else ""}, auto_id="dce_id_%s")
    return {
        "request": request,
        "consultation": consultation,
        "dce": dce,
        "identified": downloader_id is not None,
        "account_company": company,
        "form": form,
        "csrf_token": context.get("csrf_token"),
        "size_limit": consultation.dce_size_limit,
    }


@register.inclusion_tag("dce/buyer_block.html", takes_context=True)
def dce_buyer_block(context, consultation):
    from ebourgogne.dce import services

    request = context.get("request")
    draft = services.draft_version(consultation)
    from django_scopes import scopes_disabled

    with scopes_disabled():
        files = list(
            selectors.DceFile.objects.filter(consultation=consultation, removed_in__isnull=True).order_by("name")
        )
        summary = selectors.Download.objects.filter(consultation=consultation).count()
    return {
        "request": request,
        "consultation": consultation,
        "organisation": consultation.organisation,
        "files": files,
        "total": sum(f.size for f in files),
        "draft": draft,
        "has_changes": draft is not None and services.has_changes(draft),
        "current": selectors.current_version(consultation),
        "downloads": summary,
    }
