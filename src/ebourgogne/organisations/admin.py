"""Django admin for organisations: read-mostly, for platform operators.

Every change of substance goes through the organisation pages (and so through `services`, the rules and
the audit trail). Here operators look things up; the one change allowed is switching an organisation
off or on (`is_active`), which is recorded in the audit trail.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from ebourgogne.audit.services import log_event
from ebourgogne.core.access import is_operator
from ebourgogne.organisations.models import BuyerService, Invitation, Membership, Organisation


class ReadMostlyAdmin(admin.ModelAdmin):
    actions = None
    editable_fields: tuple[str, ...] = ()

    def get_queryset(self, request: HttpRequest):
        # Tenant models have scoped managers; the admin is the operators' cross-tenant view.
        manager = self.model._default_manager
        if hasattr(manager, "with_scopes_disabled"):
            manager = manager.with_scopes_disabled()
        return manager.all()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in self.model._meta.fields if field.name not in self.editable_fields]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and (request.user.is_superuser or is_operator(request.user)))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(self.editable_fields) and self.has_view_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Organisation)
class OrganisationAdmin(ReadMostlyAdmin):
    list_display = ("name", "kind", "buyer_kind", "siren", "siret", "city", "department", "is_active", "created_at")
    list_filter = ("kind", "buyer_kind", "is_active", "department")
    search_fields = ("name", "=siren", "=siret", "city", "=postal_code")
    show_full_result_count = False
    list_per_page = 50
    editable_fields = ("is_active",)

    def save_model(self, request: HttpRequest, obj: Organisation, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "is_active" in form.changed_data:
            log_event(
                action="org.organisation.activated" if obj.is_active else "org.organisation.deactivated",
                actor=request.user,
                organisation=obj,
                obj=obj,
                data={"via": "admin"},
                request=request,
            )


@admin.register(Membership)
class MembershipAdmin(ReadMostlyAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__email", "organisation__name")
    list_select_related = ("user", "organisation")


@admin.register(Invitation)
class InvitationAdmin(ReadMostlyAdmin):
    list_display = ("email", "organisation", "role", "created_at", "expires_at", "accepted_at", "revoked_at")
    list_filter = ("role",)
    search_fields = ("email", "organisation__name")
    list_select_related = ("organisation",)
    exclude = ("token_hash",)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for name in super().get_readonly_fields(request, obj) if name != "token_hash"]


@admin.register(BuyerService)
class BuyerServiceAdmin(ReadMostlyAdmin):
    list_display = ("name", "organisation", "parent", "created_at")
    search_fields = ("name", "organisation__name")
    list_select_related = ("organisation", "parent")
