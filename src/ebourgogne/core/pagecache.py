"""Rendered copies of public page parts, kept per process under a stamp of what they show.

A public consultation page is the same for every anonymous visitor until the consultation, its tender
files or its answers change. Rendering it (dozens of translations, includes and dates) cost ten times a
bare page; a copy is kept here under a key that includes a stamp of everything the part shows, so a
change makes a new key and the old copy is never served again (on every node, with no invalidation
message: each node keeps its own copies, they cannot disagree).

Rules for a part kept here: render it only for visitors who see the common version (anonymous, no query
string, nothing personal in the context), and put in the key every input that changes the markup
(language, time-dependent states). The CSRF token is the only per-request value allowed inside: render
with `csrf_token=CSRF_PLACEHOLDER` in the context; `fill()` puts the request's token back.

Whole pages: `kept_page()` serves a page's response from a copy for the common visitor
(`common_visitor()`: anonymous, no cookie of their own, no message waiting, not an htmx request), so the
layout, the blocks and the context processors are not run again either; everyone else gets the page
rendered for them. The key must hold everything the page shows that can differ between two common
visitors: the language and URL prefix are added here, the view adds the address's query string, the
stamp of the data and the time-dependent states.

Bounded: at most `MAX_ENTRIES` copies per process, least recently used dropped first.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable

from django.conf import settings
from django.core.signals import setting_changed
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import get_script_prefix
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

MAX_ENTRIES = 2000
# A per-process random mark: no content can imitate it.
CSRF_PLACEHOLDER = f"csrf-placeholder-{secrets.token_hex(16)}"

_copies: OrderedDict[str, str] = OrderedDict()
_lock = threading.Lock()


def get_or_render(key: str, render: Callable[[], str]) -> str:
    """The copy kept under `key`, rendered by `render()` the first time (outside the lock)."""
    with _lock:
        found = _copies.get(key)
        if found is not None:
            _copies.move_to_end(key)
            return found
    rendered = render()
    with _lock:
        _copies[key] = rendered
        _copies.move_to_end(key)
        while len(_copies) > MAX_ENTRIES:
            _copies.popitem(last=False)
    return rendered


def fill(request, copy: str) -> SafeString:
    """The copy with this request's CSRF token in place of the placeholder (only when it has one)."""
    if CSRF_PLACEHOLDER in copy:
        copy = copy.replace(CSRF_PLACEHOLDER, get_token(request))
    return mark_safe(copy)  # noqa: S308 (rendered by our templates, escaped there)


def common_visitor(request: HttpRequest) -> bool:
    """A visitor who sees the common version of a public page: not signed in, no cookie of their own but
    the CSRF, language and session ones (a tender-file downloader who identified themselves carries a cookie
    of the DCE, a message waiting for them one of the messages framework), no message waiting (in the
    session), and not an htmx request (which gets a part of the page). The query string is the caller's:
    either in its key or a reason to render."""
    if request.user.is_authenticated or request.headers.get("HX-Request"):
        return False
    common = {settings.CSRF_COOKIE_NAME, settings.LANGUAGE_COOKIE_NAME, settings.SESSION_COOKIE_NAME}
    if not all(name in common for name in request.COOKIES):
        return False
    storage = getattr(request, "_messages", None)
    return storage is None or not len(storage)


def kept_page(request: HttpRequest, key: str, render: Callable[[dict], tuple[HttpResponse, bool]]) -> HttpResponse:
    """The page under `key` for a common visitor (`common_visitor()`, checked by the caller), from its copy.

    The first time, `render(extra)` makes the response with `extra` added to its template context (the CSRF
    placeholder) and says whether it may be kept (a page with a form error, say, is not); a plain HTML
    response with status 200 or 404 and no cookie or header of its own is kept. Each response gets its
    visitor's own CSRF token."""
    key = "|".join(("page", get_language() or "", get_script_prefix(), key))
    with _lock:
        found = _copies.get(key)
        if found is not None:
            _copies.move_to_end(key)
    if found is None:
        response, keep = render({"csrf_token": CSRF_PLACEHOLDER})
        if not keep or not _keepable(response):
            if not isinstance(response, HttpResponse) or response.streaming:
                return response
            html = response.content.decode(response.charset)
            if CSRF_PLACEHOLDER in html:
                response.content = html.replace(CSRF_PLACEHOLDER, get_token(request))
            return response
        found = f"{response.status_code}|{response.content.decode(response.charset)}"
        with _lock:
            _copies[key] = found
            _copies.move_to_end(key)
            while len(_copies) > MAX_ENTRIES:
                _copies.popitem(last=False)
    status, _separator, html = found.partition("|")
    return HttpResponse(fill(request, html), status=int(status))


# What a response kept by `kept_page` may carry: what HttpResponse() sets by itself, and Vary (recomputed by
# the middleware and the view's decorators around the new response).
_OWN_HEADERS = {"content-type", "vary"}


def _keepable(response) -> bool:
    return (
        type(response) is HttpResponse
        and response.status_code in (200, 404)
        and response.charset == settings.DEFAULT_CHARSET
        and response.get("Content-Type", "").startswith("text/html")
        and not response.cookies
        and all(name.lower() in _OWN_HEADERS for name in response.headers)
    )


def clear(**kwargs) -> None:
    with _lock:
        _copies.clear()


def size() -> int:
    return len(_copies)


setting_changed.connect(clear, dispatch_uid="ebourgogne_pagecache_settings_changed")
