"""`{% search_form form action %}` and `{% search_result_rows results %}`: see search/rendering.py."""

from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe

from ebourgogne.search import rendering

register = template.Library()


@register.simple_tag
def search_form(form, action):
    return mark_safe(rendering.form_html(form, action))  # noqa: S308 (escaped in rendering)


@register.simple_tag
def search_result_rows(results):
    return mark_safe(rendering.result_rows(results))  # noqa: S308 (escaped in rendering)
