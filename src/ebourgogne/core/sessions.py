"""Session engine: Django's database sessions, in a table that also keeps who is signed in, read together
with that person in one query.

Every request of a signed-in person reads its session row, then the person (active? password changed
elsewhere?) with their organisations, roles and second factor. Here the session table is
`accounts.Session` (Django's `AbstractBaseSession` plus the id of the person signed in, copied from the
session data on every save), and the session is read with SQL compiled once (`core.prepared`) that joins
the person, their memberships and their TOTP state (`accounts.current.session_with_person`): one query
for both. The authentication middleware (`accounts.authentication`) takes the person from those rows only
when they are those of the id in the session data, and still makes all of Django's checks.

Decoding is Django's own too (`signing.loads`: signature, base64, zlib), done once per process for each
signed string: the payload it verified is kept under the exact string (`_VERIFIED`), and each request still
gets its own dictionary from it (the serializer's `loads`), so nothing a request changes in its session
reaches another. A string that fails verification is never kept; a change of settings (SECRET_KEY...)
empties the cache.

Encoding, writes, expiry, key rotation, logout and `clearsessions` are Django's own
(`SESSION_ENGINE = "ebourgogne.core.sessions"`). Being in the database, a session ended by a logout on one
server process is ended on all of them at once. `ebourgogne.core.sessions_cached` is the same over
Django's `cached_db` engine, for a cache that every process shares (Redis).
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends import db
from django.core import signing
from django.core.exceptions import SuspiciousOperation
from django.core.signals import setting_changed
from django.utils import timezone

# (key salt, signed session data) -> the payload bytes that `signing.loads` verified for it.
_VERIFIED: dict[tuple[str, str], bytes] = {}
MAX_VERIFIED = 4096


class _Payload:
    """A `signing.loads` serializer that returns the verified payload as it is (bytes)."""

    def loads(self, data: bytes) -> bytes:
        return data


def _clear_verified(**kwargs) -> None:
    _VERIFIED.clear()


setting_changed.connect(_clear_verified, dispatch_uid="ebourgogne_sessions_settings_changed")


class SessionRow(NamedTuple):
    """What Django's engines use of the session row they read (`load()`): its data and expiry date."""

    session_data: str
    expire_date: object


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
            return SessionRow(session_data, expire_date)
        self._session_key = None
        return None

    def decode(self, session_data):
        """Django's `decode()` (same checks, same answers, the same log line for a bad signature), the
        signature checked once per process for each signed string."""
        key = (self.key_salt, session_data)
        payload = _VERIFIED.get(key)
        if payload is None:
            try:
                payload = signing.loads(session_data, salt=self.key_salt, serializer=_Payload)
            except signing.BadSignature:
                logging.getLogger("django.security.SuspiciousSession").warning("Session data corrupted")
                return {}
            except Exception:  # noqa: BLE001 - as Django's decode(): anything else is an empty session
                return {}
            if len(_VERIFIED) >= MAX_VERIFIED:
                _VERIFIED.clear()
            _VERIFIED[key] = payload
        try:
            return self.serializer().loads(payload)
        except Exception:  # noqa: BLE001 - as Django's decode()
            return {}


class SessionStore(PersonSessionStore, db.SessionStore):
    pass
