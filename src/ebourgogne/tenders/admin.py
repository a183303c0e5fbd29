"""Admin of the tenders app: the platform's incident log only.

Incidents (unavailability, slowness) are recorded by platform operators; they are kept as evidence for
late deposits (CE 23/09/2021 RATP). Bids, files and receipts are deliberately not in the admin: their
rules live in `services`, and who deposited what is nobody's business before the deadline."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ebourgogne.core.access import is_operator
from ebourgogne.tenders.models import Incident


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("started_at", "ended_at", "description", "recorded_by")
    ordering = ("-started_at",)
    readonly_fields = ("recorded_by", "created_at")
    fields = ("started_at", "ended_at", "description", "recorded_by", "created_at")

    def _operator(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and (request.user.is_superuser or is_operator(request.user)))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._operator(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._operator(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._operator(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._operator(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # evidence is never deleted

    def save_model(self, request: HttpRequest, obj: Incident, form: Any, change: bool) -> None:
        if not change:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)
