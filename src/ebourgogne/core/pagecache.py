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

Bounded: at most `MAX_ENTRIES` copies per process, least recently used dropped first.
"""

from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable

from django.core.signals import setting_changed
from django.middleware.csrf import get_token
from django.utils.safestring import SafeString, mark_safe

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


def clear(**kwargs) -> None:
    with _lock:
        _copies.clear()


def size() -> int:
    return len(_copies)


setting_changed.connect(clear, dispatch_uid="ebourgogne_pagecache_settings_changed")
