"""Template helpers of the page layout: navigation state, the organisation switcher, role names."""

from __future__ import annotations

import html

from django import template
from django.core.signals import setting_changed
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

register = template.Library()


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


# --- The person's organisations (header switcher, account page), written in Python: they are drawn on
# every signed-in page, where a template loop with its lookups cost several times more. ---------------

# Per language: role code -> name, kind code -> name, the switcher's two labels (escaped). Per URL prefix and
# URLconf: slug -> page address.
_labels: dict[str, tuple[dict[str, str], dict[str, str], str, str]] = {}
_organisation_urls: dict[tuple, str] = {}
MAX_CACHED_URLS = 10_000


def _forget(**kwargs) -> None:
    _labels.clear()
    _organisation_urls.clear()


setting_changed.connect(_forget, dispatch_uid="ebourgogne_ui_labels_settings_changed")


def _labels_now() -> tuple[dict[str, str], dict[str, str], str, str]:
    language = get_language()
    found = _labels.get(language)
    if found is None:
        from ebourgogne.organisations.roles import OrganisationKind, Role

        found = _labels[language] = (
            {code: str(label) for code, label in Role.choices},
            {code: str(label) for code, label in OrganisationKind.choices},
            _escape(gettext("Organisation en cours :")),
            _escape(gettext("Mes organisations")),
        )
    return found


def _escape(value) -> str:
    """`django.utils.html.escape(value)` for a plain value (what it calls, without its lazy-string wrapper)."""
    return html.escape(str(value))


def _organisation_url(slug: str, prefix: str | None = None, urlconf=None) -> str:
    """The address of the organisation's page (`prefix` and `urlconf`, when given, are the current ones)."""
    key = (
        slug,
        prefix if prefix is not None else get_script_prefix(),
        urlconf if prefix is not None else get_urlconf(),
    )
    found = _organisation_urls.get(key)
    if found is None:
        try:
            found = reverse("organisations:detail", args=[slug])
        except NoReverseMatch:
            found = reverse("accounts:home") + "#organisations"
        if len(_organisation_urls) >= MAX_CACHED_URLS:
            _organisation_urls.clear()
        _organisation_urls[key] = found
    return found


def _roles_text(roles, role_names: dict[str, str]) -> str:
    return _escape(", ".join(role_names.get(role, role) for role in roles))


@register.filter
def organisation_switcher(request) -> str:
    """The header's menu of the signed-in person's organisations ("" when they have none)."""
    if request is None or not hasattr(request, "user"):
        return ""
    from ebourgogne.accounts import current

    organisations = current.organisations(request)
    if not organisations:
        return ""
    role_names, _kinds, current_label, mine_label = _labels_now()
    here = getattr(request, "organisation", None)
    if here is not None:
        summary = f'<span class="visually-hidden">{current_label}</span> {_escape(here.name)}'
    else:
        summary = mine_label
    prefix, urlconf = get_script_prefix(), get_urlconf()
    items = "\n".join(
        f'<li><a href="{_escape(_organisation_url(organisation.slug, prefix, urlconf))}"'
        f"{' aria-current="page"' if here is not None and here.pk == organisation.pk else ''}>"
        f'{_escape(organisation.name)} <span class="org-role">{_roles_text(roles, role_names)}</span></a></li>'
        for organisation, roles in organisations
    )
    return mark_safe(  # noqa: S308 - every value above is escaped
        f'<details class="org-switcher">\n<summary>{summary}</summary>\n<ul>\n{items}\n</ul>\n</details>'
    )


@register.filter
def organisation_rows(organisations) -> str:
    """The rows of the account page's table of organisations: name (linked), type, roles."""
    role_names, kind_names, _current, _mine = _labels_now()
    prefix, urlconf = get_script_prefix(), get_urlconf()
    return mark_safe(  # noqa: S308 - every value is escaped
        "\n".join(
            f'<tr><th scope="row"><a href="{_escape(_organisation_url(organisation.slug, prefix, urlconf))}">'
            f"{_escape(organisation.name)}</a></th>"
            f"<td>{_escape(kind_names.get(organisation.kind, organisation.kind))}</td>"
            f"<td>{_roles_text(roles, role_names)}</td></tr>"
            for organisation, roles in organisations or ()
        )
    )


@register.filter
def rendered_messages(request) -> str:
    """The page's messages (core/layout/messages.html), "" when there is none: for a slot of a page that is
    one cached copy. Reading them marks them shown, as the layout's loop does."""
    if request is None or not hasattr(request, "_messages"):
        return ""
    from django.contrib.messages import get_messages
    from django.template.loader import render_to_string

    messages = get_messages(request)
    if not messages:
        return ""
    return render_to_string("core/layout/messages.html", {"messages": messages})
