"""Changes a person makes to their own account."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from ebourgogne.accounts.adapters import SUPPORTED_LANGUAGES
from ebourgogne.audit.services import log_event
from ebourgogne.core.errors import DomainError, PermissionRefused


def profile_update(*, user: Any, acting_user: Any, full_name: str, language: str, request: Any = None) -> Any:
    """Change a person's name and language. Only the person themselves may do it."""
    if not getattr(acting_user, "is_authenticated", False) or acting_user.pk != user.pk:
        raise PermissionRefused(_("Vous ne pouvez modifier que votre propre compte."))
    full_name = " ".join(full_name.split())
    if not full_name:
        raise DomainError(_("Indiquez votre nom."), code="full_name_required")
    if language not in SUPPORTED_LANGUAGES:
        raise DomainError(_("Cette langue n'est pas proposée."), code="language_unsupported")
    with transaction.atomic():
        changed = {}
        if user.full_name != full_name:
            changed["full_name"] = full_name
        if user.language != language:
            changed["language"] = language
        user.full_name = full_name
        user.language = language
        user.save(update_fields=["full_name", "language"])
        if changed:
            log_event(action="account.profile.updated", actor=acting_user, obj=user, data=changed, request=request)
    return user
