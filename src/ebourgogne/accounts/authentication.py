"""Django's AuthenticationMiddleware, taking the signed-in person's row from the session read.

Every request of a signed-in person loads their user row: Django's `ModelBackend.get_user()` builds that
query with the ORM each time (about 0.13 ms), and the page then asks for the person's organisations and
second factor. For sessions opened through a backend that keeps ModelBackend's own `get_user()` (Django's
ModelBackend and allauth's AuthenticationBackend: every login of the platform), `get_user()` below takes
the user row and those answers from the query that read the session (`core.sessions`: the session row
joined with its person), when that row's person is the one named in the session data, or else reads them
with one query (`accounts.current.load_user()`); then it does exactly what `django.contrib.auth.get_user()`
does: the backend's `user_can_authenticate()` (inactive people are signed out), then the check of the
session's password hash (a password changed elsewhere ends the session; SECRET_KEY_FALLBACKS are honoured
the same way). Any other backend goes through Django's own `get_user()`. Tests run both on the same
sessions and compare (accounts/tests).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model, load_backend
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.middleware import AuthenticationMiddleware as DjangoAuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject

from ebourgogne.accounts import current


def get_user(request):
    """`django.contrib.auth.get_user(request)`, with the user row read with the session (or by
    `current.load_user()`)."""
    try:
        user_id = get_user_model()._meta.pk.to_python(request.session[SESSION_KEY])
        backend_path = request.session[BACKEND_SESSION_KEY]
    except KeyError:
        return AnonymousUser()
    if backend_path not in settings.AUTHENTICATION_BACKENDS:
        return AnonymousUser()
    backend = load_backend(backend_path)
    if type(backend).get_user is not ModelBackend.get_user or not isinstance(user_id, int):
        return auth.get_user(request)

    # ModelBackend.get_user()'s row, with what every page asks about the person (accounts.current): read
    # with the session row by the session engine when it can, else now.
    user, organisations, has_totp = current.person_read_with_session(request.session, user_id)
    if user is not None and not backend.user_can_authenticate(user):
        user = None
    if user is not None:
        # Verify the session: the same steps as django.contrib.auth.get_user().
        session_hash = request.session.get(HASH_SESSION_KEY)
        session_auth_hash = user.get_session_auth_hash()
        verified = bool(session_hash) and constant_time_compare(session_hash, session_auth_hash)
        if not verified:
            if session_hash and any(
                constant_time_compare(session_hash, fallback_hash)
                for fallback_hash in user.get_session_auth_fallback_hash()
            ):
                request.session.cycle_key()
                request.session[HASH_SESSION_KEY] = session_auth_hash
            else:
                request.session.flush()
                user = None
    if user is None:
        return AnonymousUser()
    current.remember(request, organisations, has_totp)
    return user


def _cached_user(request):
    if not hasattr(request, "_cached_user"):
        request._cached_user = get_user(request)
    return request._cached_user


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """In MIDDLEWARE in place of django.contrib.auth.middleware.AuthenticationMiddleware."""

    def process_request(self, request):
        super().process_request(request)  # checks the session middleware, sets request.auser
        request.user = SimpleLazyObject(lambda: _cached_user(request))
