"""The journal pages: an organisation's events for its members, every event for platform operators.

Members of a buyer see their organisation's events (downloads and submissions will appear there as the
procurement services arrive), filtered by object, action, person and dates, newest first, and export them
as CSV. IP addresses and browsers are personal data that buyers do not need: only operators see them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ebourgogne.audit.actions import action_label
from ebourgogne.audit.forms import EventFilterForm, OperatorEventFilterForm, object_type_choices
from ebourgogne.audit.models import AuditEvent
from ebourgogne.audit.selectors import all_events, iterate, organisation_events, page_of
from ebourgogne.audit.services import log_event
from ebourgogne.core import clock
from ebourgogne.core.access import operator_only, organisation_view
from ebourgogne.organisations.roles import PERMISSIONS, roles_grant

PAGE_SIZE = 50
CSV_DELIMITER = ";"  # what spreadsheets set to French open without asking
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _listing(request: HttpRequest, *, form: EventFilterForm, queryset_for, context: dict[str, Any]) -> HttpResponse:
    status = 200
    page = None
    if form.is_valid():
        cleaned = form.cleaned_data
        page = page_of(
            queryset_for(form.filters()), before=cleaned.get("before"), after=cleaned.get("after"), size=PAGE_SIZE
        )
    else:
        status = 400
    query = request.GET.copy()
    for key in ("before", "after"):
        query.pop(key, None)
    filter_query = query.urlencode()
    newer_url = older_url = None
    if page is not None:
        type_names = dict(object_type_choices())
        for event in page.events:
            event.action_display = action_label(event.action)  # type: ignore[attr-defined]
            event.object_type_display = type_names.get(event.object_type, event.object_type)  # type: ignore[attr-defined]
            event.details = _details(event.data)  # type: ignore[attr-defined]
        if page.newer is not None:
            newer_url = _page_link(context["page_url"], filter_query, "after", page.newer)
        if page.older is not None:
            older_url = _page_link(context["page_url"], filter_query, "before", page.older)
    context.update(
        form=form,
        page=page,
        filter_query=filter_query,
        newer_url=newer_url,
        older_url=older_url,
        known_actions=EventFilterForm.known_actions(),
    )
    return render(request, "audit/events.html", context, status=status)


def _permissions(request: HttpRequest) -> dict[str, bool]:
    """The caller's permissions in the organisation, for the organisation's menu (`can.org_edit`...)."""
    roles = getattr(request, "organisation_roles", set())
    return {name.replace(".", "_"): roles_grant(roles, name) for name in PERMISSIONS}


def _page_link(base: str, filter_query: str, key: str, seq: int) -> str:
    return f"{base}?{filter_query}&{key}={seq}" if filter_query else f"{base}?{key}={seq}"


def _details(data: Any) -> list[tuple[str, str]]:
    if not isinstance(data, dict):
        return []
    return [
        (str(key), value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in sorted(data.items())
    ]


@organisation_view("audit.view")
def org_events(request: HttpRequest, organisation: Any) -> HttpResponse:
    return _listing(
        request,
        form=EventFilterForm(request.GET or {}),
        queryset_for=lambda filters: organisation_events(organisation=organisation, filters=filters),
        context={
            "organisation": organisation,
            "can": _permissions(request),
            "show_network": False,
            "csv_url": reverse("audit:org_events_csv", kwargs={"org_slug": organisation.slug}),
            "page_url": reverse("audit:org_events", kwargs={"org_slug": organisation.slug}),
        },
    )


@operator_only
def operator_events(request: HttpRequest) -> HttpResponse:
    return _listing(
        request,
        form=OperatorEventFilterForm(request.GET or {}),
        queryset_for=lambda filters: all_events(filters=filters),
        context={
            "organisation": None,
            "show_network": True,
            "csv_url": reverse("audit:operator_events_csv"),
            "page_url": reverse("audit:operator_events"),
        },
    )


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet would run a cell starting with these as a formula: keep it text.
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(events: Iterator[AuditEvent], *, show_network: bool) -> Iterator[str]:
    writer = csv.writer(_Echo(), delimiter=CSV_DELIMITER)
    header = [
        _("Numéro"),
        _("Date et heure"),
        _("Code de l'action"),
        _("Action"),
        _("Auteur"),
        _("Organisation"),
        _("Type d'objet"),
        _("Identifiant de l'objet"),
        _("Objet"),
        _("Détails"),
    ]
    if show_network:
        header += [_("Adresse IP"), _("Navigateur")]
    header.append(_("Empreinte"))
    yield "\ufeff" + writer.writerow(header)
    for event in events:
        row = [
            event.seq,
            timezone.localtime(event.occurred_at).isoformat(timespec="seconds"),
            event.action,
            action_label(event.action),
            event.actor_label,
            event.organisation_label,
            event.object_type,
            event.object_id,
            event.object_label,
            json.dumps(event.data, ensure_ascii=False, sort_keys=True) if event.data else "",
        ]
        if show_network:
            row += [event.ip_address, event.user_agent]
        row.append(event.hash)
        yield writer.writerow([_cell(value) for value in row])


def _export(
    request: HttpRequest, *, form: EventFilterForm, queryset_for, organisation: Any, filename: str, show_network: bool
) -> HttpResponse:
    if not form.is_valid():
        return render(
            request,
            "audit/events.html",
            {
                "form": form,
                "page": None,
                "newer_url": None,
                "older_url": None,
                "organisation": organisation,
                "show_network": show_network,
                "known_actions": EventFilterForm.known_actions(),
                "csv_url": request.path,
                "page_url": request.path,
                "filter_query": "",
            },
            status=400,
        )
    filters = form.filters()
    exported = {key: str(value) for key, value in vars(filters).items() if value not in (None, "")}
    log_event(action="audit.exported", actor=request.user, organisation=organisation, data=exported, request=request)
    rows = _csv_rows(iterate(queryset_for(filters)), show_network=show_network)
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@organisation_view("audit.view")
def org_events_csv(request: HttpRequest, organisation: Any) -> HttpResponse:
    return _export(
        request,
        form=EventFilterForm(request.GET or {}),
        queryset_for=lambda filters: organisation_events(organisation=organisation, filters=filters),
        organisation=organisation,
        filename=f"journal-{organisation.slug}-{clock.today_local():%Y%m%d}.csv",
        show_network=False,
    )


@operator_only
def operator_events_csv(request: HttpRequest) -> HttpResponse:
    return _export(
        request,
        form=OperatorEventFilterForm(request.GET or {}),
        queryset_for=lambda filters: all_events(filters=filters),
        organisation=None,
        filename=f"journal-{clock.today_local():%Y%m%d}.csv",
        show_network=True,
    )
