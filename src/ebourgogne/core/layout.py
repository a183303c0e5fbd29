"""The inputs of the page layout (core/templates/core/layout/) for a view that renders its page as one
cached copy (`{% fragment %}`, see core/templatetags/ebourgogne_fragments.py), worked out once in Python
rather than looked up by the template: they are part of the copy's key, so they are plain values."""

from __future__ import annotations

from django.http import HttpRequest


def layout_inputs(request: HttpRequest) -> dict[str, object]:
    """signed_in, operator (the platform operator's menu) and page (the view name, for aria-current)."""
    from ebourgogne.accounts import current
    from ebourgogne.organisations.roles import Role

    signed_in = bool(request.user.is_authenticated)
    match = getattr(request, "resolver_match", None)
    return {
        "signed_in": signed_in,
        "operator": signed_in and Role.PLATFORM_OPERATOR in current.roles(request),
        "page": match.view_name if match is not None else "",
    }
