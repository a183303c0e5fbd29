"""The inputs of the page layout (core/templates/core/layout/) for a view that renders its page as one
cached copy (`{% fragment %}`, see core/templatetags/ebourgogne_fragments.py), worked out once in Python
rather than looked up by the template: they are part of the copy's key, so they are plain values."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template import Context, TemplateSyntaxError
from django.template.base import TextNode
from django.template.context_processors import csrf
from django.template.defaulttags import CommentNode, LoadNode
from django.template.loader import get_template


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


# Templates checked by render_fragment_page(): (engine, name) -> the engine's Template, known to be one fragment.
_CHECKED: dict = {}


def render_fragment_page(request: HttpRequest, template_name: str, context: dict) -> HttpResponse:
    """`render(request, template_name, context)` for a page template that is one `{% fragment %}` (around
    `{% load %}`, `{% comment %}` and blank text only), without running the context processors.

    The fragment's copy is rendered from its inputs alone and its slots from the page's context, so what the
    processors would add is never read, but for `request` (slots such as `request|rendered_messages`), the
    CSRF token and PLATFORM_NAME, given here; the page is the same as `render()` would give (tests compare
    both). A template with anything else at its top is refused."""
    from ebourgogne.core.context_processors import platform
    from ebourgogne.core.templatetags.ebourgogne_fragments import FragmentNode

    backend_template = get_template(template_name)
    template = backend_template.template
    if _CHECKED.get(template_name) is not template:
        nodes = [node for node in template.nodelist if not isinstance(node, LoadNode | CommentNode)]
        fragments = [node for node in nodes if isinstance(node, FragmentNode)]
        others = [
            node
            for node in nodes
            if not isinstance(node, FragmentNode | TextNode) or (isinstance(node, TextNode) and node.s.strip())
        ]
        if len(fragments) != 1 or others:
            raise TemplateSyntaxError(f"{template_name} is not one {{% fragment %}}: render it with render()")
        _CHECKED[template_name] = template
    page = Context(
        {**platform(request), **context, "request": request, **csrf(request)},
        autoescape=template.engine.autoescape,
    )
    return HttpResponse(template.render(page))
