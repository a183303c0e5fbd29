"""The portal's search page, its Atom feed, buyers' public pages and the sitemap. All public: the index
holds public consultations only."""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import urlencode

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.feedgenerator import Atom1Feed
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers

from ebourgogne.core import pagecache
from ebourgogne.core.access import public
from ebourgogne.search import selectors
from ebourgogne.search.forms import SearchForm
from ebourgogne.search.selectors import Sort, StateFilter

FEED_ITEMS = 50
SITEMAP_CHUNK = 40_000  # consultations per sitemap file (the protocol allows 50,000)


def _query_string(form: SearchForm, **overrides) -> str:
    """The search's query string without empty fields (for pagination, the feed and sort links)."""
    data = {key: value for key, value in form.data.items() if value not in ("", None) and key != "page"}
    if form.fixed_buyer:
        data["buyer"] = form.fixed_buyer
    data.update({key: value for key, value in overrides.items() if value not in ("", None)})
    return urlencode(sorted(data.items()))


def _results(form: SearchForm) -> tuple[int, dict]:
    """Run the search: (status, the context of the results part)."""
    status = 200
    page = None
    if form.is_valid():
        page = selectors.search(form.criteria(), page=form.cleaned_data["page"])
        if page.out_of_range:
            status = 404
    else:
        status = 400
    return status, {
        "form": form,
        "page": page,
        "query_string": _query_string(form),
        "feed_url": reverse("search:feed") + ("?" + _query_string(form) if form.is_valid() else ""),
    }


def _results_html(request, form: SearchForm, stamp: str | None = None) -> tuple[int, str, dict]:
    """(status, the results part's HTML, its context). The part holds nothing personal (results, counts,
    pagination, feed link): for the same criteria, language and index stamp (`selectors.index_stamp`)
    every visitor gets the same HTML, kept in `core.pagecache` — the search itself is not run again.
    Searches that move with the clock ("closing within N days") and invalid ones are not kept."""

    def render_part() -> tuple[int, str, dict]:
        status, context = _results(form)
        return status, render_to_string("search/_results.html", context, request=request), context

    if not form.is_valid() or form.cleaned_data.get("closing_within"):
        return render_part()
    key = "|".join(
        (
            "search",
            get_language() or "",
            stamp or selectors.index_stamp(),
            _query_string(form),
            str(form.cleaned_data["page"]),
        )
    )
    kept: dict = {}

    def render_kept() -> str:
        status, html, context = render_part()
        kept["context"] = context
        return f"{status}|{html}"

    status, _sep, html = pagecache.get_or_render(key, render_kept).partition("|")
    context = kept.get("context") or {"form": form, "query_string": _query_string(form)}
    context.setdefault("feed_url", reverse("search:feed") + ("?" + _query_string(form)))
    return int(status), html, context


def _run(request, form: SearchForm, template: str, context: dict, stamp: str | None = None):
    status, html, part_context = _results_html(request, form, stamp)
    if request.headers.get("HX-Request") == "true":
        return HttpResponse(html, status=status)
    context.update({**part_context, "results_html": mark_safe(html)})  # noqa: S308 (our template's output)
    return render(request, template, context, status=status)


def _kept_search_page(request, make_form, template: str, context: dict, name: str):
    """The whole page for a common visitor (`pagecache.common_visitor`), kept like its results part: under
    the address's query string and the index stamp, for a valid search that does not move with the clock.
    Anyone else, and a search that cannot be kept, gets the page rendered for them."""
    if not pagecache.common_visitor(request) or request.GET.get("closing_within"):
        return _run(request, make_form(), template, context)
    stamp = selectors.index_stamp()

    def render_page(extra: dict):
        form = make_form()
        response = _run(request, form, template, {**context, **extra}, stamp)
        return response, form.is_valid() and not form.cleaned_data.get("closing_within")

    key = "|".join((name, stamp, request.META.get("QUERY_STRING", "")))
    return pagecache.kept_page(request, key, render_page)


@public(reason="the portal's search over public consultations")
@require_safe
@vary_on_headers("HX-Request")
def search(request):
    return _kept_search_page(request, lambda: SearchForm(request.GET), "search/search.html", {}, "search")


@public(reason="an Atom feed of a public search")
@require_safe
def feed(request):
    form = SearchForm(request.GET)
    if not form.is_valid():
        errors = "; ".join(f"{name}: {' '.join(messages)}" for name, messages in form.errors.items())
        return HttpResponse(
            _("Recherche invalide : %(errors)s") % {"errors": errors},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    criteria = form.criteria()
    page = selectors.search(replace(criteria, sort=Sort.PUBLISHED), per_page=FEED_ITEMS, count=False)
    query = _query_string(form)
    search_url = request.build_absolute_uri(reverse("search:search") + ("?" + query if query else ""))
    title = _("Consultations — %(query)s") % {"query": criteria.q} if criteria.q else _("Consultations")
    atom = Atom1Feed(
        title=f"{title} — e-bourgogne",
        link=search_url,
        description=_("Les consultations publiques de la recherche, les plus récentes d'abord."),
        language=get_language() or "fr",
        feed_url=request.build_absolute_uri(),
        feed_guid=request.build_absolute_uri(),
    )
    for result in page.results:
        link = request.build_absolute_uri(result.url)
        deadline = timezone.localtime(result.bids_deadline).strftime("%d/%m/%Y %H:%M")
        atom.add_item(
            title=result.title,
            link=link,
            unique_id=link,
            description=_("%(buyer)s — %(procedure)s — date limite : %(deadline)s (heure de Paris) — %(state)s")
            % {
                "buyer": result.buyer_name,
                "procedure": result.procedure_label,
                "deadline": deadline,
                "state": result.state_label,
            },
            author_name=result.buyer_name,
            pubdate=result.published_at,
            updateddate=result.published_at,
        )
    response = HttpResponse(content_type="application/atom+xml; charset=utf-8")
    atom.write(response, "utf-8")
    return response


@public(reason="a public buyer's page: its public consultations")
@require_safe
@vary_on_headers("HX-Request")
def buyer(request, slug: str):
    organisation = selectors.buyer_for_slug(slug)
    if organisation is None:
        raise Http404
    data = request.GET.copy()
    data.setdefault("state", StateFilter.ALL)
    form = SearchForm(data, fixed_buyer=organisation.slug)
    return _run(request, form, "search/buyer.html", {"buyer": organisation})


def _xml_response(lines) -> StreamingHttpResponse:
    return StreamingHttpResponse(lines, content_type="application/xml; charset=utf-8")


def _escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@public(reason="the sitemap lists public pages only")
@require_safe
def sitemap_index(request):
    def lines():
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        names = [reverse("search_root:sitemap_section", args=["portail"])]
        names.append(reverse("search_root:sitemap_section", args=["acheteurs"]))
        names += [
            reverse("search_root:sitemap_consultations", args=[chunk])
            for chunk in range(selectors.sitemap_chunks(SITEMAP_CHUNK))
        ]
        for name in names:
            yield f"  <sitemap><loc>{_escape(request.build_absolute_uri(name))}</loc></sitemap>\n"
        yield "</sitemapindex>\n"

    return _xml_response(lines())


def _urlset(request, entries):
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    base = request.build_absolute_uri("/").rstrip("/")
    for path, lastmod in entries:
        extra = f"<lastmod>{lastmod.date().isoformat()}</lastmod>" if lastmod else ""
        yield f"  <url><loc>{_escape(base + path)}</loc>{extra}</url>\n"
    yield "</urlset>\n"


PORTAL_PAGES = (
    ("portal:home", ()),
    ("search:search", ()),
    ("portal:help", ()),
    ("portal:accessibility", ()),
    ("portal:legal", ()),
    ("portal:contact", ()),
)


@public(reason="the sitemap lists public pages only")
@require_safe
def sitemap_section(request, section: str):
    if section == "portail":
        from ebourgogne.portal.help import AUDIENCES

        paths = [reverse(name, args=args) for name, args in PORTAL_PAGES]
        paths += [reverse("portal:help_role", args=[slug]) for slug in AUDIENCES]
        return _xml_response(_urlset(request, [(path, None) for path in paths]))
    if section == "acheteurs":
        return _xml_response(
            _urlset(
                request,
                [(reverse("search_root:buyer", args=[slug]), None) for slug in selectors.sitemap_buyers()],
            )
        )
    raise Http404


@public(reason="the sitemap lists public pages only")
@require_safe
def sitemap_consultations(request, chunk: int):
    if chunk >= selectors.sitemap_chunks(SITEMAP_CHUNK):
        raise Http404
    url = selectors.consultation_url_template()
    rows = selectors.sitemap_consultation_ids(chunk, SITEMAP_CHUNK)
    return _xml_response(_urlset(request, ((url.format(pk=pk), changed) for pk, changed in rows)))
