"""Session engine: Django's `cached_db` sessions (read from the cache, kept in the database too), whose
database reads use the compiled SELECT of `core.sessions`.

Only with a cache that every server process shares (Redis, REDIS_URL): a logout deletes the session from
that cache and from the database, so it ends everywhere at once. With a per-process cache (LocMem) another
process would keep serving the session from its own copy; settings.py picks this engine only when
REDIS_URL is set.
"""

from __future__ import annotations

from django.contrib.sessions.backends import cached_db

from ebourgogne.core.sessions import PreparedSessionRead


class SessionStore(PreparedSessionRead, cached_db.SessionStore):
    pass
