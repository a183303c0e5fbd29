"""`{% fragment %}`: render a piece of template once per language and set of inputs, then reuse it.

Most of a page (navigation, footer, headings, labels, links) is the same for every visitor who reads the
site in the same language; rendering its dozens of `{% translate %}` and `{% url %}` on every request
was most of the time of a page. A fragment is rendered once per process for each key, the key being the
active language, the URL prefix and configuration, and the values of the inputs named on the tag, and
is kept on the template node (it goes with the template when the template is reloaded):

    {% fragment signed_in=user.is_authenticated page=request|view_name %}
      ... {% translate "Accueil" %} ... {% if signed_in %}...{% endif %} ...
      <input type="hidden" name="next" value="{% slot request.get_full_path %}">
    {% endfragment %}

What makes it safe to share between visitors: the inside is rendered in a context of its own that holds
ONLY the named inputs (no `user`, no `request`, no `messages`), so something that depends on the visitor
renders empty unless it is passed in, and then in one of two ways:
- an input (`name=value`) is part of the key: plain values only (str, int, bool, None), for the few
  values that change the markup: booleans, codes. Never personal data (each value is one more copy).
- a slot (`{% slot value %}` inside the fragment) is filled on every use, from the page's own context,
  escaped as `{{ value }}` would be: for the visitor's own data (name, address, their organisations).
`{% csrf_token %}` and `{{ csrf_token }}` may be used inside: they are filled with the request's token.
"""

from __future__ import annotations

import re
import secrets

from django import template
from django.core.signals import setting_changed
from django.template.base import Variable, render_value_in_context
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

register = template.Library()

# Per-process random marks: they cannot be guessed, so no content of a page can imitate them.
_CSRF_PLACEHOLDER = f"csrf-placeholder-{secrets.token_hex(16)}"
_CSRF_PLACEHOLDER_INPUT = str(
    format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', _CSRF_PLACEHOLDER)
)
_SLOT_MARK = f"\x1eslot-{secrets.token_hex(8)}-"
_SLOT_SPLIT = re.compile(re.escape(_SLOT_MARK) + r"(\d+)\x1f")
# In a fragment's own context only (a template cannot name a variable that starts with "_"): the list
# where the slots met while rendering the copy (also in included templates) note their values' expressions.
_SLOTS_MET = "_ebourgogne_fragment_slots"

_ALLOWED_INPUT_TYPES = (str, int, bool, type(None))
# Copies kept per fragment; inputs are few and bounded, this only guards against a misuse.
MAX_COPIES = 256

# Bumped whenever a setting changes (tests use override_settings): copies made before are dropped.
_generation = 0


def _settings_changed(**kwargs) -> None:
    global _generation
    _generation += 1


setting_changed.connect(_settings_changed, dispatch_uid="ebourgogne_fragments_settings_changed")


_MISSING = object()


def _plain_name(expression: template.base.FilterExpression) -> str | None:
    """The variable's name when `expression` is a bare name (`full_name`: no filter, no dot, no literal, no
    translation), else None."""
    var = expression.var
    if expression.filters or not isinstance(var, Variable) or var.translate or var.lookups is None:
        return None
    return var.lookups[0] if len(var.lookups) == 1 else None


def _resolve(expression: template.base.FilterExpression, name: str | None, context: template.Context):
    """`expression.resolve(context)`; for a bare name holding a plain value, the value read directly (what
    Django's lookup would give: a missing or callable value goes through Django's own resolution)."""
    if name is not None:
        value = context.get(name, _MISSING)
        if value is not _MISSING and not callable(value):
            return value
    return expression.resolve(context)


class SlotNode(template.Node):
    """`{% slot value %}`: inside a fragment (also in a template it includes), filled on every use;
    elsewhere, the same as `{{ value }}`."""

    child_nodelists = ()

    def __init__(self, expression: template.base.FilterExpression) -> None:
        self.expression = expression

    def render(self, context: template.Context) -> str:
        met = context.get(_SLOTS_MET)
        if met is not None:
            met.append(self.expression)
            return f"{_SLOT_MARK}{len(met) - 1}\x1f"
        return render_value_in_context(self.expression.resolve(context), context)


class FragmentNode(template.Node):
    # Not walked by get_nodes_by_type(): `{% extends %}` looks for blocks through the whole parent template on
    # every render, and a fragment holds none (see `fragment` below).
    child_nodelists = ()

    def __init__(self, nodelist: template.NodeList, inputs: dict[str, template.base.FilterExpression]) -> None:
        self.nodelist = nodelist
        self.inputs = inputs
        self._inputs = tuple((name, expression, _plain_name(expression)) for name, expression in inputs.items())
        self._copies: dict[tuple, tuple[list[str], list]] = {}
        self._generation = _generation

    def _render_copy(self, context: template.Context, values: dict) -> tuple[list[str], list]:
        met: list = []
        own = template.Context(
            {**values, "csrf_token": _CSRF_PLACEHOLDER, _SLOTS_MET: met},
            autoescape=context.autoescape,
            use_l10n=context.use_l10n,
            use_tz=context.use_tz,
        )
        own.template = context.template
        parts = _SLOT_SPLIT.split(str(self.nodelist.render(own)))
        # [text, slot, text, slot, ..., text]: the texts, and the expression of each slot between them (with
        # its bare name, see _resolve()).
        return parts[0::2], [(met[int(index)], _plain_name(met[int(index)])) for index in parts[1::2]]

    def render(self, context: template.Context) -> str:
        values = {name: _resolve(expression, plain, context) for name, expression, plain in self._inputs}
        for name, value in values.items():
            if not isinstance(value, _ALLOWED_INPUT_TYPES):
                raise template.TemplateSyntaxError(
                    f"fragment input {name!r} must be a str, int, bool or None, not {type(value).__name__}"
                )
        if self._generation != _generation:
            self._copies = {}
            self._generation = _generation
        key = (get_language(), get_script_prefix(), get_urlconf(), context.autoescape, *values.items())
        copy = self._copies.get(key)
        if copy is None:
            copy = self._render_copy(context, values)
            if len(self._copies) >= MAX_COPIES:
                self._copies = {}
            self._copies[key] = copy
        texts, slots = copy
        if slots:
            # Filled from the page's own context (a slot met twice, as in a loop, is resolved once).
            filled: dict[int, str] = {}
            pieces = [texts[0]]
            for (expression, plain), text in zip(slots, texts[1:], strict=True):
                value = filled.get(id(expression))
                if value is None:
                    value = filled[id(expression)] = render_value_in_context(
                        _resolve(expression, plain, context), context
                    )
                pieces.append(value)
                pieces.append(text)
            html = "".join(pieces)
        else:
            html = texts[0]
        if _CSRF_PLACEHOLDER in html:
            html = html.replace(_CSRF_PLACEHOLDER_INPUT, CsrfTokenNode().render(context))
            html = html.replace(_CSRF_PLACEHOLDER, str(conditional_escape(context.get("csrf_token", ""))))
        return mark_safe(html)  # noqa: S308 - the output of the template engine, escaped as it rendered


@register.tag
def fragment(parser: template.base.Parser, token: template.base.Token) -> FragmentNode:
    """{% fragment name=value ... %} ... {% slot value %} ... {% endfragment %}"""
    inputs = {}
    for bit in token.split_contents()[1:]:
        name, sep, expression = bit.partition("=")
        if not sep or not name.isidentifier() or name == "csrf_token":
            raise template.TemplateSyntaxError(f"fragment takes name=value inputs, not {bit!r}")
        inputs[name] = parser.compile_filter(expression)
    nodelist = parser.parse(("endfragment",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        raise template.TemplateSyntaxError("a {% block %} cannot be inside a {% fragment %}")
    return FragmentNode(nodelist, inputs)


@register.tag
def slot(parser: template.base.Parser, token: template.base.Token) -> SlotNode:
    """{% slot value %}: see the module's documentation."""
    bits = token.split_contents()
    if len(bits) != 2:
        raise template.TemplateSyntaxError("slot takes one value: {% slot user.email %}")
    return SlotNode(parser.compile_filter(bits[1]))


@register.filter
def truthy(value) -> bool:
    """`value` as a boolean, for a fragment input: `has_name=user.full_name|truthy`."""
    return bool(value)
