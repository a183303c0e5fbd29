"""The authentication middleware, which reads the person with the session, behaves as Django's own: each
case is run through both and compared."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.test import Client, override_settings
from django.urls import reverse

from ebourgogne.accounts.authentication import get_user
from ebourgogne.core.clock import now
from ebourgogne.core.sessions import SessionStore
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import CompanyFactory, UserFactory, make_member, sign_in

pytestmark = pytest.mark.django_db

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
ALLAUTH_BACKEND = "allauth.account.auth_backends.AuthenticationBackend"


class CountingBackend(ModelBackend):
    """A backend with its own get_user(): such sessions go through Django's get_user()."""

    calls = 0

    def get_user(self, user_id):
        CountingBackend.calls += 1
        return super().get_user(user_id)


def _request_for(rf, session_data: dict):
    """Two requests, each on its own stored copy of the same session data (one per implementation)."""
    requests = []
    for _ in range(2):
        store = SessionStore()
        store.update(session_data)
        store.create()
        store.save()
        request = rf.get("/")
        request.session = SessionStore(store.session_key)
        requests.append(request)
    return requests


def _signed_in(user, backend=MODEL_BACKEND, session_hash=None):
    return {
        SESSION_KEY: str(user.pk),
        BACKEND_SESSION_KEY: backend,
        HASH_SESSION_KEY: user.get_session_auth_hash() if session_hash is None else session_hash,
    }


def _both(rf, session_data):
    ours, django = _request_for(rf, session_data)
    return (get_user(ours), ours.session), (auth.get_user(django), django.session)


@pytest.mark.parametrize("backend", [MODEL_BACKEND, ALLAUTH_BACKEND])
def test_a_valid_session_gives_the_same_user(rf, backend):
    user = UserFactory(full_name="Jeanne Roux")
    (ours, _), (django, _) = _both(rf, _signed_in(user, backend))

    assert ours.is_authenticated and ours == django
    fields = [field.attname for field in type(user)._meta.concrete_fields]
    assert [getattr(ours, name) for name in fields] == [getattr(django, name) for name in fields]
    assert ours._state.adding is False and ours._state.db == "default"


def test_a_password_changed_elsewhere_ends_the_session(rf):
    user = UserFactory()
    stale = _signed_in(user)
    user.set_password("un-autre-mot-de-passe-42!")
    user.save()

    (ours, our_session), (django, django_session) = _both(rf, stale)

    assert not ours.is_authenticated and not django.is_authenticated
    assert SESSION_KEY not in our_session and SESSION_KEY not in django_session  # flushed, both


def test_a_session_signed_with_a_previous_secret_key_is_moved_to_the_new_one(rf):
    user = UserFactory()
    old_hash = user._get_session_auth_hash(secret="ancienne-cle-secrete-" * 3)

    with override_settings(SECRET_KEY_FALLBACKS=["ancienne-cle-secrete-" * 3]):
        (ours, our_session), (django, django_session) = _both(rf, _signed_in(user, session_hash=old_hash))

    assert ours == django == user
    assert our_session[HASH_SESSION_KEY] == django_session[HASH_SESSION_KEY] == user.get_session_auth_hash()


@pytest.mark.parametrize(
    "case",
    ["inactive", "deleted", "no hash", "unknown backend", "no user key", "empty"],
)
def test_the_other_cases_give_an_anonymous_visitor_as_django_does(rf, case):
    user = UserFactory()
    data = _signed_in(user)
    if case == "inactive":
        user.is_active = False
        user.save()
    elif case == "deleted":
        user.delete()
    elif case == "no hash":
        del data[HASH_SESSION_KEY]
    elif case == "unknown backend":
        data[BACKEND_SESSION_KEY] = "somewhere.else.Backend"
    elif case == "no user key":
        del data[SESSION_KEY]
    else:
        data = {}

    (ours, our_session), (django, django_session) = _both(rf, data)

    assert not ours.is_authenticated and not django.is_authenticated
    assert dict(our_session.items()) == dict(django_session.items())


def test_a_backend_with_its_own_get_user_goes_through_django(rf):
    path = f"{__name__}.CountingBackend"
    user = UserFactory()
    with override_settings(AUTHENTICATION_BACKENDS=[path, MODEL_BACKEND]):
        CountingBackend.calls = 0
        (ours, _), (django, _) = _both(rf, _signed_in(user, path))

    assert ours == django == user
    assert CountingBackend.calls == 2  # ours delegated, Django called it too


def test_an_expired_or_unknown_session_is_empty_and_loses_its_key():
    store = SessionStore()
    store["x"] = 1
    store.create()
    store.set_expiry(now().replace(year=2000))
    store.save()

    for key in (store.session_key, "inconnue0123456789abcdefghijklmnop"):
        reread = SessionStore(key)
        assert reread.load() == {} and reread.session_key is None


def test_a_logout_ends_the_session_for_every_copy_of_the_cookie():
    person = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    browser = sign_in(Client(), person)
    # The same cookie in another client, as another server process would receive it.
    copy = Client()
    copy.cookies[settings.SESSION_COOKIE_NAME] = browser.cookies[settings.SESSION_COOKIE_NAME].value
    assert copy.get(reverse("accounts:home")).status_code == 200

    browser.post(reverse("account_logout"))

    assert copy.get(reverse("accounts:home"))["Location"].startswith(reverse("account_login"))


@pytest.mark.redis
def test_with_redis_sessions_go_through_the_shared_cache_and_a_logout_ends_them_everywhere():
    import os
    import secrets

    import redis
    from django.core.cache import caches

    from ebourgogne.core import sessions_cached

    url = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError as error:
        pytest.skip(f"REDIS NOT REACHABLE at {url} ({error}): cached sessions are NOT tested")
    shared = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": f"test-sessions-{secrets.token_hex(4)}",
    }
    with override_settings(CACHES={"default": shared}):
        first = sessions_cached.SessionStore()
        try:
            first["panier"] = ["une", "liste"]
            first.create()
            first.save()
            key = first.session_key
            # Another process: its own store object, the same Redis.
            assert sessions_cached.SessionStore(key).load() == {"panier": ["une", "liste"]}
            assert SessionStore(key).load() == {"panier": ["une", "liste"]}  # in the database too
            assert caches["default"].get(sessions_cached.SessionStore(key).cache_key) is not None

            first.flush()  # what a logout does

            assert sessions_cached.SessionStore(key).load() == {}
            assert SessionStore(key).load() == {}
        finally:
            first.delete()  # only this test's key: the Redis database is shared
