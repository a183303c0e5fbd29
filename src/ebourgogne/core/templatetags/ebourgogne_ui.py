"""Template helpers of the page layout: navigation state, the organisation switcher, role names."""

from __future__ import annotations

from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag(takes_context=True)
def user_organisations(context) -> list:
    """The signed-in person's organisations, each as (organisation, [role codes]); cached per request."""
    request = context.get("request")
    if request is None:
        return []
    from ebourgogne.accounts.selectors import organisations_for_request

    return organisations_for_request(request)


@register.simple_tag(takes_context=True)
def aria_current(context, *view_names: str) -> str:
    """` aria-current="page"` when the current page is one of `view_names` (a name ending in ":*" matches
    a whole namespace)."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None) if request is not None else None
    if match is None:
        return ""
    for name in view_names:
        if name == match.view_name or (name.endswith(":*") and match.view_name.startswith(name[:-1])):
            return format_html(' aria-current="{}"', "page")
    return ""


@register.filter
def role_label(code: str) -> str:
    """The translated name of a role code."""
    from ebourgogne.organisations.roles import Role

    try:
        return str(Role(code).label)
    except ValueError:
        return code


@register.simple_tag(takes_context=True)
def request_is_operator(context) -> bool:
    """True for a platform operator; read from the roles already loaded for this request."""
    request = context.get("request")
    if request is None:
        return False
    from ebourgogne.accounts.selectors import roles_for_request
    from ebourgogne.organisations.roles import Role

    return Role.PLATFORM_OPERATOR in roles_for_request(request)


@register.filter
def has_required_fields(form) -> bool:
    """True when one of the form's visible fields is required (the form then explains the * mark)."""
    return any(field.field.required for field in form.visible_fields())
