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
    from ebourgogne.accounts import current

    return current.organisations(request)


@register.simple_tag(takes_context=True)
def aria_current(context, *view_names: str, current: str | None = None) -> str:
    """` aria-current="page"` when the current page is one of `view_names` (a name ending in ":*" matches
    a whole namespace). The current page is the request's view, or `current=` (a view name) where there is
    no request, as inside a `{% fragment %}`."""
    if current is None:
        request = context.get("request")
        match = getattr(request, "resolver_match", None) if request is not None else None
        current = match.view_name if match is not None else None
    if not current:
        return ""
    for name in view_names:
        if name == current or (name.endswith(":*") and current.startswith(name[:-1])):
            return format_html(' aria-current="{}"', "page")
    return ""


@register.filter
def view_name(request) -> str:
    """The view name of the request's page ("" when none matched, as on error pages)."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None else ""


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
    return is_operator(context.get("request"))


@register.filter
def is_operator(request) -> bool:
    """True when the request's signed-in person is a platform operator (roles loaded once per request)."""
    if request is None or not hasattr(request, "user"):
        return False
    from ebourgogne.accounts import current
    from ebourgogne.organisations.roles import Role

    return Role.PLATFORM_OPERATOR in current.roles(request)


@register.filter
def has_required_fields(form) -> bool:
    """True when one of the form's visible fields is required (the form then explains the * mark)."""
    return any(field.field.required for field in form.visible_fields())
