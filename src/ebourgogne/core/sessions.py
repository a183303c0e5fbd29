"""Session engine: Django's database sessions, in a table that also keeps who is signed in, read together
with that person in one query.

Every request of a signed-in person reads its session row, then the person (active? password changed
elsewhere?) with their organisations, roles and second factor. Here the session table is
`accounts.Session` (Django's `AbstractBaseSession` plus the id of the person signed in, copied from the
session data on every save), and the session is read with SQL compiled once (`core.prepared`) that joins
the person, their memberships and their TOTP state (`accounts.current.session_with_person`): one query
for both. The authentication middleware (`accounts.authentication`) takes the person from those rows only
when they are those of the id in the session data, and still makes all of Django's checks.

Encoding, writes, expiry, key rotation, logout and `clearsessions` are Django's own
(`SESSION_ENGINE = "ebourgogne.core.sessions"`). Being in the database, a session ended by a logout on one
server process is ended on all of them at once. `ebourgogne.core.sessions_cached` is the same over
Django's `cached_db` engine, for a cache that every process shares (Redis).
"""

from __future__ import annotations

import logging

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.core.exceptions import SuspiciousOperation
from django.utils import timezone


def user_id_in(data: dict) -> int | None:
    """The id of the person signed in according to session data (None when nobody or not a number)."""
    raw = data.get(SESSION_KEY)
    if raw is None:
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


class PersonSessionStore:
    """For subclasses of Django's db SessionStore: the `accounts.Session` model, the person's id written with
    the data, and the session read with the person in one query."""

    @classmethod
    def get_model_class(cls):
        from ebourgogne.accounts.models import Session

        return Session

    def create_model_instance(self, data):
        instance = super().create_model_instance(data)
        instance.user_id = user_id_in(data)
        return instance

    def _get_session_from_db(self):
        from ebourgogne.accounts import current

        try:
            rows = current.session_with_person.rows(self.session_key)
        except SuspiciousOperation as error:  # as Django's engine
            logging.getLogger(f"django.security.{error.__class__.__name__}").warning(str(error))
            rows = []
        if rows and rows[0][1] > timezone.now():
            session_data, expire_date = rows[0][:2]
            current.keep_session_rows(self, rows)
            return self.model(session_key=self.session_key, session_data=session_data, expire_date=expire_date)
        self._session_key = None
        return None


class SessionStore(PersonSessionStore, db.SessionStore):
    pass
