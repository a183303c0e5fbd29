"""Sessions kept in `accounts.Session` with the id of the person signed in, read with that person in one query;
Django's session life cycle (login rotation, logout, expiry, clearsessions) unchanged; on PostgreSQL, the
read prepared by the server and standing for the connection's health check."""

from __future__ import annotations

import importlib
from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ebourgogne.accounts.authentication import get_user
from ebourgogne.accounts.models import Session
from ebourgogne.core.clock import now
from ebourgogne.core.sessions import SessionStore
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import DEMO_PASSWORD, CompanyFactory, UserFactory, make_member, sign_in

pytestmark = pytest.mark.django_db

HOME = "accounts:home"


def _cookie(client: Client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _signed_in_store(user) -> SessionStore:
    store = SessionStore()
    store.update(
        {
            SESSION_KEY: str(user.pk),
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
    )
    store.create()
    return store


def test_the_session_row_keeps_the_id_of_the_person_signed_in(client):
    person = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    sign_in(client, person)

    assert Session.objects.get(pk=_cookie(client)).user_id == person.pk
    anonymous = SessionStore()
    anonymous["panier"] = 1
    anonymous.create()
    assert Session.objects.get(pk=anonymous.session_key).user_id is None


def test_a_signed_in_page_reads_the_session_and_the_person_with_one_query(client):
    person = make_member(CompanyFactory(name="Scierie Bourdon"), Role.COMPANY_MEMBER, totp=False)
    sign_in(client, person)

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse(HOME))

    assert response.status_code == 200
    assert person.email in response.content.decode() and "Scierie Bourdon" in response.content.decode()
    assert len(queries) == 1, [query["sql"] for query in queries]
    assert "accounts_session" in queries[0]["sql"] and "organisations_membership" in queries[0]["sql"]


def test_the_person_is_taken_from_the_session_row_only_if_it_is_the_one_in_the_session_data(
    django_assert_num_queries,
):
    person, other = UserFactory(full_name="Léa Perrin"), UserFactory(full_name="Paul Arnaud")
    store = _signed_in_store(person)
    request = RequestFactory().get("/")
    request.session = SessionStore(store.session_key)
    with django_assert_num_queries(1):
        assert get_user(request) == person

    # A row out of step with its data (it cannot happen through the engine): the data wins, read anew.
    Session.objects.filter(pk=store.session_key).update(user_id=other.pk)
    request = RequestFactory().get("/")
    request.session = SessionStore(store.session_key)
    with django_assert_num_queries(2):
        assert get_user(request) == person


def test_a_login_gives_a_new_session_key_whose_row_holds_the_person(client):
    person = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    session = client.session
    session["avant"] = "conservé"
    session.save()
    before = _cookie(client)
    assert Session.objects.get(pk=before).user_id is None

    response = client.post(reverse("account_login"), {"login": person.email, "password": DEMO_PASSWORD})

    assert response.status_code == 302
    after = _cookie(client)
    assert after != before and not Session.objects.filter(pk=before).exists()
    row = Session.objects.get(pk=after)
    assert row.user_id == person.pk and row.get_decoded()["avant"] == "conservé"
    assert client.get(reverse(HOME)).status_code == 200


def test_a_logout_deletes_the_row(client):
    person = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    sign_in(client, person)
    key = _cookie(client)

    client.post(reverse("account_logout"))

    assert not Session.objects.filter(pk=key).exists()
    assert client.get(reverse(HOME))["Location"].startswith(reverse("account_login"))


def test_deleting_a_person_deletes_their_sessions_and_a_deactivated_person_is_signed_out():
    leaving, deactivated = make_member(CompanyFactory(), Role.COMPANY_MEMBER), UserFactory()
    first, second = sign_in(Client(), leaving), sign_in(Client(), deactivated)
    key = _cookie(first)

    leaving.delete()
    deactivated.is_active = False
    deactivated.save()

    assert not Session.objects.filter(pk=key).exists()
    for client in (first, second):
        assert client.get(reverse(HOME))["Location"].startswith(reverse("account_login"))


def test_expired_sessions_read_as_empty_and_clearsessions_deletes_them_only():
    person = UserFactory()
    live, expired = _signed_in_store(person), _signed_in_store(person)
    expired.set_expiry(now() - timedelta(minutes=1))
    expired.save()

    request = RequestFactory().get("/")
    request.session = SessionStore(expired.session_key)
    assert not get_user(request).is_authenticated

    call_command("clearsessions")

    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_the_migration_carries_open_sessions_of_djangos_table_over():
    from django.apps import apps
    from django.contrib.sessions.backends.db import SessionStore as DjangoSessionStore
    from django.contrib.sessions.models import Session as DjangoSession

    migration = importlib.import_module("ebourgogne.accounts.migrations.0002_session_with_user")
    person = UserFactory()
    signed_in = DjangoSessionStore()
    signed_in.update({SESSION_KEY: str(person.pk), "x": 1})
    signed_in.create()
    anonymous = DjangoSessionStore()
    anonymous["y"] = 2
    anonymous.create()
    gone = DjangoSessionStore()
    gone["z"] = 3
    gone.create()
    DjangoSession.objects.filter(pk=gone.session_key).update(expire_date=now() - timedelta(days=1))

    class Editor:
        pass

    editor = Editor()
    editor.connection = connection
    migration.copy_django_sessions(apps, editor)

    copied = dict(Session.objects.values_list("session_key", "user_id"))
    assert copied == {signed_in.session_key: person.pk, anonymous.session_key: None}
    assert SessionStore(signed_in.session_key).load() == {SESSION_KEY: str(person.pk), "x": 1}


@pytest.mark.redis
def test_with_redis_the_row_keeps_the_person_and_a_session_read_from_the_cache_still_reads_them_fresh():
    import os
    import secrets

    import redis

    from ebourgogne.accounts import current
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
    person = make_member(CompanyFactory(name="Forge Lambert"), Role.COMPANY_MEMBER)
    with override_settings(CACHES={"default": shared}):
        store = sessions_cached.SessionStore()
        try:
            store.update(
                {
                    SESSION_KEY: str(person.pk),
                    "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: person.get_session_auth_hash(),
                }
            )
            store.create()
            assert Session.objects.get(pk=store.session_key).user_id == person.pk

            request = RequestFactory().get("/")
            request.session = sessions_cached.SessionStore(store.session_key)  # read from Redis
            assert get_user(request) == person
            assert [organisation.name for organisation, _roles in current.organisations(request)] == ["Forge Lambert"]

            person.is_active = False
            person.save()
            request = RequestFactory().get("/")
            request.session = sessions_cached.SessionStore(store.session_key)
            assert not get_user(request).is_authenticated
        finally:
            store.delete()


# --- PostgreSQL: prepared statements, and the first read standing for the health check -------------------


def _require_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (run with DATABASE_URL=postgres://...): prepared statements NOT tested")


@pytest.mark.postgres
def test_on_postgresql_the_read_is_prepared_by_the_server_and_djangos_queries_are_not(client):
    _require_postgresql()
    person = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    sign_in(client, person)
    for _ in range(2):
        assert client.get(reverse(HOME)).status_code == 200

    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert any("accounts_session" in statement and "$1" in statement for statement in prepared), prepared
    assert not any(statement.lstrip().upper().startswith(("INSERT", "UPDATE")) for statement in prepared), prepared
    assert connection.connection.prepare_threshold is None  # Django's setting is left as it was


def _wsgi_get(path: str, cookie: str) -> tuple[str, bytes]:
    """A request through Django's WSGI handler, with its request_started / request_finished signals (the
    test client turns off the connection handling that they do in production)."""
    from django.core.handlers.wsgi import WSGIHandler

    environ = RequestFactory()._base_environ(PATH_INFO=path, HTTP_COOKIE=f"{settings.SESSION_COOKIE_NAME}={cookie}")
    status = []
    response = WSGIHandler()(environ, lambda s, h, e=None: status.append(s))
    body = b"".join(response)
    response.close()
    return status[0], body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_connection_killed_between_two_requests_is_replaced_and_the_request_succeeds(monkeypatch):
    _require_postgresql()
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] and connection.settings_dict["CONN_MAX_AGE"]
    person = make_member(CompanyFactory(name="Tuilerie Morel"), Role.COMPANY_MEMBER)
    cookie = _cookie(sign_in(Client(), person))
    checks = []
    usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or usable())

    status, body = _wsgi_get("/compte/", cookie)
    assert status.startswith("200") and person.email.encode() in body
    status, body = _wsgi_get("/compte/", cookie)
    assert status.startswith("200") and checks == []  # no SELECT 1 before the read: the read is the check
    backend = connection.connection.info.backend_pid

    killer = connections.create_connection("default")
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
            assert cursor.fetchone() == (True,)
            for _ in range(100):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
                if cursor.fetchone() == (0,):
                    break
                import time

                time.sleep(0.05)
    finally:
        killer.close()

    status, body = _wsgi_get("/compte/", cookie)

    assert status.startswith("200") and person.email.encode() in body and b"Tuilerie Morel" in body
    assert connection.connection.info.backend_pid != backend
    assert checks == [1]  # asked once, after the read failed on the dead connection
