"""Session engine: Django's `cached_db` sessions (read from the cache, kept in the database too), in the
table of `core.sessions` (`accounts.Session`), whose database reads also read the person (`core.sessions`).
When the session comes from the cache, the authentication middleware reads the person with one query of
its own.

Only with a cache that every server process shares (Redis, REDIS_URL): a logout deletes the session from
that cache and from the database, so it ends everywhere at once. With a per-process cache (LocMem) another
process would keep serving the session from its own copy; settings.py picks this engine only when
REDIS_URL is set.
"""

from __future__ import annotations

from django.contrib.sessions.backends import cached_db

from ebourgogne.core.sessions import PersonSessionStore


class SessionStore(PersonSessionStore, cached_db.SessionStore):
    pass
