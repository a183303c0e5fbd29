"""`{% fragment %}`: render a piece of template once per language and set of inputs, then reuse it.

Most of the page layout (navigation, footer, headings, labels, links) is the same for every visitor who
reads the site in the same language; rendering its dozens of `{% translate %}` and `{% url %}` on every
request was most of the time of a page. A fragment is rendered once per process for each key, the key
being the active language, the URL prefix and configuration, and the values of the inputs named on the
tag, and kept on the template node (it goes with the template when the template is reloaded):

    {% fragment signed_in=user.is_authenticated page=request.resolver_match.view_name %}
      ... {% translate "Accueil" %} ... {% if signed_in %}...{% endif %} ...
    {% endfragment %}

What makes it safe to share between visitors: the inside is rendered in a context of its own that holds
ONLY the named inputs (no `user`, no `request`, no `messages`), so something that depends on the visitor
renders empty unless it is passed as an input, and is then part of the key. Inputs must be plain values
(str, int, bool, None); pass booleans and codes, never personal data (each distinct value is one more
copy). `{% csrf_token %}` may be used inside: the cached copy carries a placeholder that is replaced by
the request's own token on every use.
"""

from __future__ import annotations

import secrets

from django import template
from django.core.signals import setting_changed
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# A per-process random placeholder: it cannot be guessed, so no page content can imitate it.
_CSRF_PLACEHOLDER = f"csrf-placeholder-{secrets.token_hex(16)}"
_CSRF_PLACEHOLDER_INPUT = str(
    format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', _CSRF_PLACEHOLDER)
)
_ALLOWED_INPUT_TYPES = (str, int, bool, type(None))
# Copies kept per fragment; inputs are few and bounded, this only guards against a misuse.
MAX_COPIES = 256

# Bumped whenever a setting changes (tests use override_settings): copies made before are dropped.
_generation = 0


def _settings_changed(**kwargs) -> None:
    global _generation
    _generation += 1


setting_changed.connect(_settings_changed, dispatch_uid="ebourgogne_fragments_settings_changed")


class FragmentNode(template.Node):
    # Not walked by get_nodes_by_type(): `{% extends %}` looks for blocks through the whole parent template on
    # every render, and a fragment holds none (see `fragment` below).
    child_nodelists = ()

    def __init__(self, nodelist: template.NodeList, inputs: dict[str, template.base.FilterExpression]) -> None:
        self.nodelist = nodelist
        self.inputs = inputs
        self._copies: dict[tuple, str] = {}
        self._generation = _generation

    def render(self, context: template.Context) -> str:
        values = {name: expression.resolve(context) for name, expression in self.inputs.items()}
        for name, value in values.items():
            if not isinstance(value, _ALLOWED_INPUT_TYPES):
                raise template.TemplateSyntaxError(
                    f"fragment input {name!r} must be a str, int, bool or None, not {type(value).__name__}"
                )
        if self._generation != _generation:
            self._copies = {}
            self._generation = _generation
        key = (get_language(), get_script_prefix(), get_urlconf(), context.autoescape, *values.items())
        html = self._copies.get(key)
        if html is None:
            own = template.Context(
                {**values, "csrf_token": _CSRF_PLACEHOLDER},
                autoescape=context.autoescape,
                use_l10n=context.use_l10n,
                use_tz=context.use_tz,
            )
            own.template = context.template
            html = str(self.nodelist.render(own))
            if len(self._copies) >= MAX_COPIES:
                self._copies = {}
            self._copies[key] = html
        if _CSRF_PLACEHOLDER in html:
            html = html.replace(_CSRF_PLACEHOLDER_INPUT, CsrfTokenNode().render(context))
            html = html.replace(_CSRF_PLACEHOLDER, str(conditional_escape(context.get("csrf_token", ""))))
        return mark_safe(html)  # noqa: S308 - the output of the template engine, escaped as it rendered


@register.tag
def fragment(parser: template.base.Parser, token: template.base.Token) -> FragmentNode:
    """{% fragment name=value ... %} ... {% endfragment %}"""
    bits = token.split_contents()[1:]
    inputs = {}
    for bit in bits:
        name, sep, expression = bit.partition("=")
        if not sep or not name.isidentifier() or name == "csrf_token":
            raise template.TemplateSyntaxError(f"fragment takes name=value inputs, not {bit!r}")
        inputs[name] = parser.compile_filter(expression)
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("a {% block %} cannot be inside a {% fragment %}")
    return FragmentNode(nodelist, inputs)
