"""Whole public pages kept for the common visitor (core.pagecache.kept_page), the search index's stamp as a
prepared read (core.prepared.sql_rows), and CSRF strings drawn in one read (core.csrf): the pages answer
as when they were rendered for each request, to each visitor their own."""

from __future__ import annotations

import re
import time
from collections import Counter

import pytest
from django.conf import settings
from django.contrib import messages
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.messages.storage.session import SessionStorage
from django.db import connection, connections
from django.http import HttpResponse
from django.middleware import csrf as django_csrf
from django.test import Client, RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ebourgogne.core import clock, csrf, pagecache, prepared
from ebourgogne.organisations.roles import Role
from ebourgogne.search.tests.conftest import published
from ebourgogne.testing.factories import CompanyFactory, make_member, sign_in

pytestmark = pytest.mark.django_db

SEARCH_SQL = "e.consultation_id"  # in the search's statements, not in the stamp's
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _empty_cache():
    pagecache.clear()
    yield
    pagecache.clear()


def get(client, path=None, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path or reverse("search:search"), params)
    return response, queries.captured_queries


def without_token(html: str) -> str:
    return TOKEN.sub("", re.sub(r'X-CSRFToken": "[^"]+"', "", html))


# --- The search page -------------------------------------------------------------------------------


def test_a_repeated_search_page_is_the_kept_copy_with_one_statement_and_the_same_html():
    published(title="Réfection de la toiture de l'école")
    first, queries = get(Client(), q="toiture")
    assert any(SEARCH_SQL in query["sql"] for query in queries)
    again, queries = get(Client(), q="toiture")
    assert len(queries) == 1 and SEARCH_SQL not in queries[0]["sql"]  # the index's stamp only
    assert again.status_code == 200
    assert without_token(again.content.decode()) == without_token(first.content.decode())
    assert "Réfection de la toiture" in again.content.decode()
    assert "csrf-placeholder" not in again.content.decode()


def test_the_kept_page_answers_with_the_headers_of_the_rendered_one():
    published(title="Voirie")
    first, _queries = get(Client())
    again, queries = get(Client())
    assert len(queries) == 1
    assert sorted(again.headers.keys()) == sorted(first.headers.keys())
    for name in ("Content-Type", "Vary", "Content-Security-Policy", "Cache-Control", "Content-Language"):
        assert again.get(name) == first.get(name)
    assert "HX-Request" in again["Vary"]
    assert again.cookies[settings.CSRF_COOKIE_NAME].value  # a new visitor gets the CSRF cookie


def test_each_visitor_gets_their_own_csrf_token_and_it_is_accepted():
    published(title="Voirie")
    tokens = []
    for _ in range(3):
        visitor = Client(enforce_csrf_checks=True)
        page = visitor.get(reverse("search:search")).content.decode()
        token = TOKEN.search(page)[1]
        assert 'X-CSRFToken": "' + token in page  # htmx's header carries the same token
        tokens.append(visitor.cookies[settings.CSRF_COOKIE_NAME].value)
        switched = visitor.post(reverse("set_language"), {"language": "en", "next": "/", "csrfmiddlewaretoken": token})
        assert switched.status_code == 302
        refused = Client(enforce_csrf_checks=True).post(reverse("set_language"), {"language": "en", "next": "/"})
        assert refused.status_code == 403
    assert len(set(tokens)) == 3


def test_a_signed_in_visitor_gets_the_page_made_for_them():
    published(title="Voirie")
    get(Client())  # the common copy, now kept
    member = make_member(CompanyFactory(), Role.COMPANY_MEMBER)
    page = sign_in(Client(), member).get(reverse("search:search")).content.decode()
    assert reverse("account_logout") in page and reverse("account_signup") not in page
    common = Client().get(reverse("search:search")).content.decode()
    assert reverse("account_signup") in common and reverse("account_logout") not in common


def test_a_visitor_with_a_message_waiting_sees_it():
    published(title="Voirie")
    get(Client())
    request = RequestFactory().get("/")
    storage = CookieStorage(request)
    storage.add(messages.SUCCESS, "Votre alerte est supprimée.")
    response = HttpResponse()
    storage.update(response)
    visitor = Client()
    visitor.cookies[CookieStorage.cookie_name] = response.cookies[CookieStorage.cookie_name].value
    assert "Votre alerte est supprimée." in visitor.get(reverse("search:search")).content.decode()
    assert "Votre alerte est supprimée." not in Client().get(reverse("search:search")).content.decode()


@override_settings(MESSAGE_STORAGE="django.contrib.messages.storage.session.SessionStorage")
def test_a_message_waiting_in_the_session_is_seen_too(client):
    published(title="Voirie")
    get(Client())
    session = client.session
    session.save()
    request = RequestFactory().get("/")
    request.session = session
    storage = SessionStorage(request)
    storage.add(messages.INFO, "Un message pour vous.")
    storage.update(HttpResponse())
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    assert "Un message pour vous." in client.get(reverse("search:search")).content.decode()


def test_htmx_gets_the_results_part_not_the_kept_page():
    published(title="Voirie de Beaune")
    get(Client(), q="voirie")
    part = Client().get(reverse("search:search"), {"q": "voirie"}, headers={"HX-Request": "true"})
    assert b"<html" not in part.content and "Voirie de Beaune" in part.content.decode()


def test_each_query_string_has_its_own_copy_and_an_invalid_one_none():
    published(title="Réfection de la toiture")
    published(title="Entretien des espaces verts")
    toiture = get(Client(), q="toiture")[0].content.decode()
    verts, queries = get(Client(), q="espaces verts")
    assert any(SEARCH_SQL in query["sql"] for query in queries)
    assert "Entretien des espaces verts" in verts.content.decode() and "Entretien" not in toiture
    assert 'value="espaces verts"' in verts.content.decode()
    for _ in range(2):
        bad, _queries = get(Client(), value_min="beaucoup")
        assert bad.status_code == 400 and 'value="beaucoup"' in bad.content.decode()
        assert "csrf-placeholder" not in bad.content.decode() and TOKEN.search(bad.content.decode())
    assert not any(key.endswith("value_min=beaucoup") for key in pagecache._copies)


def test_a_write_to_the_index_shows_on_the_next_page():
    published(title="Travaux de voirie rue Carnot")
    get(Client())
    published(title="Aménagement du parc de la Colombière")
    assert "Aménagement du parc de la Colombière" in Client().get(reverse("search:search")).content.decode()


def test_the_english_page_has_its_own_copy():
    published(title="Voirie")
    french = get(Client())[0].content.decode()
    visitor = Client()
    visitor.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = visitor.get(reverse("search:search")).content.decode()
    assert 'lang="fr"' in french and 'lang="en"' in english


# --- The consultation page --------------------------------------------------------------------------


def test_the_consultation_page_is_kept_whole_with_one_statement():
    consultation = published(title="Chaises de bureau")
    url = reverse("consultations_public:detail", args=[consultation.pk])
    first, _queries = get(Client(), url)
    again, queries = get(Client(), url)
    assert len(queries) == 1  # the consultation with its buyer and the page's stamp
    assert again.status_code == 200 and "Chaises de bureau" in again.content.decode()
    assert without_token(again.content.decode()) == without_token(first.content.decode())
    assert again.cookies[settings.CSRF_COOKIE_NAME].value


# --- The index stamp, prepared ------------------------------------------------------------------------


def test_sql_rows_gives_what_a_cursor_gives():
    published(title="Voirie")
    sql = "SELECT COUNT(*), MIN(bids_deadline) FROM search_searchentry WHERE state = %s AND bids_deadline > %s"
    params = ["published", connection.ops.adapt_datetimefield_value(clock.now())]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        expected = cursor.fetchall()
    assert [tuple(row) for row in prepared.sql_rows(sql, params)] == [tuple(row) for row in expected]
    assert expected[0][0] == 1


def test_placeholders_are_numbered_once_and_percent_signs_kept():
    assert prepared._numbered("SELECT %s, '100%%' LIKE %s", 2) == b"SELECT $1, '100%' LIKE $2"
    with pytest.raises(ValueError):
        prepared._numbered("SELECT %s, %s -- other", 1)


def _wsgi_get(path: str) -> tuple[str, bytes]:
    """A request through Django's WSGI handler, with the connection handling of production (the test client
    turns it off)."""
    from django.core.handlers.wsgi import WSGIHandler

    status = []
    response = WSGIHandler()(RequestFactory()._base_environ(PATH_INFO=path), lambda s, h, e=None: status.append(s))
    body = b"".join(response)
    response.close()
    return status[0], body


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_on_postgresql_the_stamp_is_prepared_and_is_the_health_check(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only (run with DATABASE_URL=postgres://...): prepared statements NOT tested")
    published(title="Voirie de Beaune")
    checks = []
    usable = connection.is_usable
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or usable())
    for _ in range(2):
        status, body = _wsgi_get(reverse("search:search"))
        assert status.startswith("200") and b"Voirie de Beaune" in body
    assert checks == []  # no SELECT 1 before the stamp: the stamp is the check
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        statements = [row[0] for row in cursor.fetchall()]
    assert any("search_indexversion" in statement and "$2" in statement for statement in statements)
    checks.clear()  # that cursor of the test's own, outside a request, made Django's check

    backend = connection.connection.info.backend_pid
    killer = connections.create_connection("default")
    try:
        with killer.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [backend])
            for _ in range(100):
                cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", [backend])
                if cursor.fetchone() == (0,):
                    break
                time.sleep(0.05)
    finally:
        killer.close()
    status, body = _wsgi_get(reverse("search:search"))
    assert status.startswith("200") and b"Voirie de Beaune" in body
    assert connection.connection.info.backend_pid != backend and checks == [1]


# --- CSRF strings ---------------------------------------------------------------------------------------


def test_django_draws_its_csrf_strings_with_ours():
    assert django_csrf._get_new_csrf_string is csrf.new_csrf_string


def test_csrf_strings_have_djangos_length_and_alphabet_and_no_bias():
    strings = [csrf.new_csrf_string() for _ in range(2000)]
    assert len(set(strings)) == len(strings)
    assert all(len(value) == django_csrf.CSRF_SECRET_LENGTH for value in strings)
    counts = Counter("".join(strings))
    assert set(counts) == set(django_csrf.CSRF_ALLOWED_CHARS)
    # 64,000 characters over 62: about 1,032 each, standard deviation about 32. Bytes taken modulo 62
    # without dropping the last eight values would give eight characters a quarter more (about 1,250).
    assert all(880 < count < 1190 for count in counts.values()), counts
