"""The search page's form and result rows written in Python (docs/benchmarks.md, "Search page (session 2)").

Rendering the form with Django's widgets and the result loop with `{% translate %}` per row was most of the
page's time. Here:
- the form without errors: Django's own rendering of the form bound to no data is made once per language,
  URL prefix, action and form shape, then the request's values are put in (a `value` attribute on inputs,
  `selected` on the chosen option). A form with errors is rendered by the template as before (rare).
- result rows: labels translated once per language; dates and values formatted directly.
Nothing that depends on the index is kept: rows are rendered from this request's results.
`tests/test_rendering.py` checks the output equals the templates' rendering.
"""

from __future__ import annotations

import html as html_module
import re
from decimal import ROUND_HALF_UP, Decimal

from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import formats, timezone
from django.utils.html import escape
from django.utils.translation import get_language, gettext

from ebourgogne.consultations.models import ContractType, Procedure, State
from ebourgogne.core import clock

MAX_COPIES = 64
_forms: dict[tuple, str] = {}
_labels: dict[tuple, dict] = {}

_SELECT = re.compile(r'<select name="(?P<name>[a-z_]+)"[^>]*>.*?</select>', re.S)


def _select_fields(form) -> tuple[str, ...]:
    return tuple(name for name, field in form.fields.items() if hasattr(field, "choices"))


def _base(form, action: str) -> str:
    key = (get_language(), get_script_prefix(), action, tuple(form.fields), form.fixed_buyer)
    html = _forms.get(key)
    if html is None:
        empty = type(form)({}, fixed_buyer=form.fixed_buyer)
        html = render_to_string("search/_form.html", {"form": empty, "action": action})
        if len(_forms) >= MAX_COPIES:
            _forms.clear()
        _forms[key] = html
    return html


def form_html(form, action: str) -> str:
    """The search form's HTML: the template's rendering, made cheaply when the form has no errors."""
    if form.errors:
        return render_to_string("search/_form.html", {"form": form, "action": action})
    html = _base(form, action)
    data = form.data
    selects = _select_fields(form)
    for name in form.fields:
        value = data.get(name)
        if value in (None, ""):
            continue
        if name in selects:
            html = _select(html, name, str(value))
        else:
            html = html.replace(f'name="{name}"', f'name="{name}" value="{escape(value)}"', 1)
    return html


def _select(html: str, name: str, value: str) -> str:
    start = html.index(f'<select name="{name}"')
    end = html.index("</select>", start)
    part = html[start:end].replace(" selected>", ">")
    option = f'<option value="{escape(value)}"'
    part = part.replace(option + ">", option + " selected>", 1)
    return html[:start] + part + html[end:]


def _language_labels() -> dict:
    key = (get_language(), get_script_prefix())
    labels = _labels.get(key)
    if labels is None:
        marker = "zzslugzz"
        labels = {
            "buyer": gettext("Acheteur"),
            "procedure_dt": gettext("Procédure"),
            "deadline": gettext("Date limite de remise des plis"),
            "paris": gettext("(heure de Paris)"),
            "place": gettext("Lieu d'exécution"),
            "value": gettext("Valeur estimée"),
            "state_dt": gettext("État"),
            "reference": gettext("Référence"),
        }
        labels["passed"] = escape(gettext("Date limite passée"))
        labels["procedure"] = {value: escape(str(label)) for value, label in Procedure.choices}
        labels["contract_type"] = {value: escape(str(label)) for value, label in ContractType.choices}
        labels["state"] = {value: escape(str(label)) for value, label in State.choices}
        grouped = formats.get_format("NUMBER_GROUPING") == 3
        labels["thousands"] = formats.get_format("THOUSAND_SEPARATOR") if grouped else None
        labels["buyer_url"] = escape(reverse("search_root:buyer", args=[marker])).replace(marker, "{}")
        if len(_labels) >= MAX_COPIES:
            _labels.clear()
        _labels[key] = labels
    return labels


def result_rows(results) -> str:
    """The `<li>` of each result, as the template wrote them."""
    labels = _language_labels()
    now = clock.now()
    procedures, contract_types, states = labels["procedure"], labels["contract_type"], labels["state"]
    buyer_url = labels["buyer_url"]
    dt_buyer, dt_procedure, dt_deadline, paris = (
        labels["buyer"],
        labels["procedure_dt"],
        labels["deadline"],
        labels["paris"],
    )
    dt_place, dt_value, dt_state, dt_reference = (
        labels["place"],
        labels["value"],
        labels["state_dt"],
        labels["reference"],
    )
    thousands = labels["thousands"]
    esc = html_module.escape  # what django.utils.html.escape does, without its lazy-string wrapper
    parts = []
    for result in results:
        deadline = timezone.localtime(result.bids_deadline)
        is_open = result.state == State.PUBLISHED and result.bids_deadline > now
        if result.state == State.PUBLISHED and not is_open:
            state_label = labels["passed"]
        else:
            state_label = states.get(result.state) or esc(result.state)
        place = ""
        if result.commune or result.department:
            where = esc(result.commune) + (f" ({esc(result.department)})" if result.department else "")
            place = f"<dt>{dt_place}</dt><dd>{where}</dd>"
        value = ""
        if result.estimated_value is not None:
            value = f"<dt>{dt_value}</dt><dd>{_amount(result.estimated_value, thousands)} € HT</dd>"
        parts.append(
            f'<li class="card"><h3><a href="{esc(result.url)}">{esc(result.title)}</a></h3><dl>'
            f'<dt>{dt_buyer}</dt><dd><a href="{buyer_url.format(esc(result.buyer_slug))}">'
            f"{esc(result.buyer_name)}</a></dd>"
            f"<dt>{dt_procedure}</dt><dd>{procedures.get(result.procedure) or esc(result.procedure)} — "
            f"{contract_types.get(result.contract_type) or esc(result.contract_type)}</dd>"
            f'<dt>{dt_deadline}</dt><dd><time datetime="{deadline.isoformat()}">{deadline:%d/%m/%Y %H:%M}</time> '
            f"{paris}</dd>{place}{value}"
            f'<dt>{dt_state}</dt><dd><span class="tag {"tag-ok" if is_open else "tag-neutral"}">{state_label}</span></dd>'
            f'</dl><p class="muted">{dt_reference} {esc(result.reference)}</p></li>\n'
        )
    return "".join(parts)


def _amount(value, thousands: str | None) -> str:
    """`value|floatformat:0|intcomma`: rounded half up to a whole number, digits grouped by three."""
    if thousands is None:
        return intcomma(floatformat(value, 0))
    number = value if isinstance(value, Decimal) else Decimal(repr(value))
    return f"{int(number.quantize(Decimal(1), ROUND_HALF_UP)):,}".replace(",", thousands)
