"""The search form and result rows written in Python (search/rendering.py) give the same HTML as Django's
widgets and the template loop they replace, in both languages, for any values of the form."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.template import engines
from django.template.loader import render_to_string
from django.utils import translation

from ebourgogne.search import rendering
from ebourgogne.search.forms import SearchForm
from ebourgogne.search.selectors import Result

# The loop of search/_results.html before search/rendering.py.
TEMPLATE_LOOP = """{% load i18n humanize %}{% for result in results %}
      <li class="card">
        <h3><a href="{{ result.url }}">{{ result.title }}</a></h3>
        <dl>
          <dt>{% translate "Acheteur" %}</dt><dd><a href="{% url 'search_root:buyer' result.buyer_slug %}">{{ result.buyer_name }}</a></dd>
          <dt>{% translate "Procédure" %}</dt><dd>{{ result.procedure_label }} — {{ result.contract_type_label }}</dd>
          <dt>{% translate "Date limite de remise des plis" %}</dt><dd><time datetime="{{ result.bids_deadline|date:'c' }}">{{ result.bids_deadline|date:"d/m/Y H:i" }}</time> {% translate "(heure de Paris)" %}</dd>
          {% if result.commune or result.department %}<dt>{% translate "Lieu d'exécution" %}</dt><dd>{{ result.commune }}{% if result.department %} ({{ result.department }}){% endif %}</dd>{% endif %}
          {% if result.estimated_value is not None %}<dt>{% translate "Valeur estimée" %}</dt><dd>{{ result.estimated_value|floatformat:0|intcomma }} € HT</dd>{% endif %}
          <dt>{% translate "État" %}</dt><dd><span class="tag {% if result.is_open %}tag-ok{% else %}tag-neutral{% endif %}">{{ result.state_label }}</span></dd>
        </dl>
        <p class="muted">{% translate "Référence" %} {{ result.reference }}</p>
      </li>
    {% endfor %}"""


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", str(html))).strip()


FORM_DATA = [
    "",
    "q=voirie",
    "q=%3Cscript%3E%22%27%26&cpv=45000000",
    "department=21&procedure=mapa&contract_type=works&sort=deadline",
    "state=all&department=&procedure=&sort=",
    "state=past&closing_within=10&value_min=1000&value_max=2000.50",
    "deadline_from=2026-01-02&deadline_to=2026-12-31&sort=value&state=open",
    "q=a&q=b&department=58&department=89",
]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
@pytest.mark.parametrize("query", FORM_DATA)
@pytest.mark.parametrize("fixed_buyer", ["", "commune-de-dijon"])
def test_form_equals_django_rendering(language, query, fixed_buyer, dijon):
    with translation.override(language):
        form = SearchForm(QueryDict(query), fixed_buyer=fixed_buyer)
        assert form.is_valid(), form.errors
        expected = render_to_string("search/_form.html", {"form": form, "action": "/consultations/"})
        assert rendering.form_html(form, "/consultations/") == expected
        assert rendering.form_html(form, "/consultations/") == expected  # from the kept copy


@pytest.mark.django_db
def test_form_with_errors_is_the_template_rendering():
    form = SearchForm(QueryDict("department=99&value_min=abc&q=x"))
    assert not form.is_valid()
    expected = render_to_string("search/_form.html", {"form": form, "action": "/consultations/"})
    html = rendering.form_html(form, "/consultations/")
    assert html == expected
    assert 'aria-invalid="true"' in html and 'value="abc"' in html


def result(**fields) -> Result:
    values = {
        "id": 7,
        "reference": "2026-<01>",
        "title": "Voirie & réseaux « Carnot »",
        "buyer_name": "Commune d'Auxerre",
        "buyer_slug": "commune-d-auxerre",
        "procedure": "mapa",
        "contract_type": "works",
        "department": "89",
        "commune": "Auxerre",
        "estimated_value": Decimal("1234567.89"),
        "state": "published",
        "published_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        "bids_deadline": dt.datetime(2099, 3, 31, 10, 0, tzinfo=dt.UTC),
        "url": "/consultations/7/",
    }
    values.update(fields)
    return Result(**values)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_result_rows_equal_the_template_loop(language):
    results = [
        result(),
        result(bids_deadline=dt.datetime(2020, 1, 5, 23, 30, tzinfo=dt.UTC), estimated_value=None),
        result(state="awarded", commune="", department="", procedure="open", contract_type="services"),
        result(state="cancelled", commune="Dijon", department="", estimated_value=Decimal("0")),
        result(state="closed", commune="", department="21", estimated_value=Decimal("999.5")),
        *(
            result(estimated_value=value)
            for value in (Decimal("0.5"), Decimal("1.49"), Decimal("12345678901.50"), Decimal("1000"), 2500.5)
        ),
    ]
    with translation.override(language):
        expected = engines["django"].from_string(TEMPLATE_LOOP).render({"results": results})
        assert squeeze(rendering.result_rows(results)) == squeeze(expected)
