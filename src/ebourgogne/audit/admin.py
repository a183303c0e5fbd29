"""Read-only admin for the audit trail: nobody adds, changes or deletes events here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ebourgogne.audit.models import AuditEvent
from ebourgogne.core.access import is_operator


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("seq", "occurred_at", "action", "actor_label", "organisation_label", "object_label")
    search_fields = ("=action", "=actor_label", "=object_type", "=object_id")
    show_full_result_count = False
    list_per_page = 50
    ordering = ("-seq",)
    actions = None

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and (request.user.is_superuser or is_operator(request.user)))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
