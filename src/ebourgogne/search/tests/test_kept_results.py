"""The results part of the search page is kept (core.pagecache) under the index stamp: a repeated search
does not run again, and yet a write to the index or a deadline passing shows at once."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from ebourgogne.core import clock
from ebourgogne.search import indexing
from ebourgogne.search.tests.conftest import published
from ebourgogne.testing.factories import BuyerFactory

pytestmark = pytest.mark.django_db

SEARCH_SQL = "e.consultation_id"  # in every search query, not in the stamp's


def searches_run(queries) -> int:
    return sum(SEARCH_SQL in query["sql"] for query in queries)


def results_part(response) -> str:
    html = response.content.decode()
    return html[html.index('<div id="resultats">') : html.index("</section>")]


def get(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("search:search"), params)
    return response, searches_run(queries.captured_queries)


def test_a_repeated_search_is_served_from_the_kept_copy_with_the_same_html(client):
    published(title="Réfection de la toiture de l'école")
    first, runs = get(client, q="toiture")
    assert runs >= 1
    again, runs_again = get(client, q="toiture")
    assert runs_again == 0
    assert again.status_code == 200
    assert results_part(again) == results_part(first)
    assert "Réfection de la toiture" in again.content.decode()


def test_each_criteria_and_language_has_its_own_copy(client):
    published(title="Réfection de la toiture de l'école")
    published(title="Entretien des espaces verts")
    toiture, _runs = get(client, q="toiture")
    verts, runs = get(client, q="espaces verts")
    assert runs >= 1
    assert "Entretien des espaces verts" in verts.content.decode()
    assert "Entretien des espaces verts" not in toiture.content.decode()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english, runs = get(client, q="toiture")
    assert runs >= 1
    assert "1 call for tenders found." in results_part(english)
    assert "1 consultation trouvée." in results_part(toiture)


def test_a_consultation_published_after_the_copy_appears_at_once(client):
    published(title="Travaux de voirie rue Carnot")
    before, _runs = get(client)
    assert "Aménagement du parc" not in before.content.decode()
    published(title="Aménagement du parc de la Colombière")  # indexing raises the index version
    after, runs = get(client)
    assert runs >= 1
    assert "Aménagement du parc de la Colombière" in after.content.decode()


def test_a_consultation_removed_from_the_index_disappears_at_once(client):
    gone = published(title="Marché retiré du portail")
    assert "Marché retiré du portail" in get(client)[0].content.decode()
    indexing.remove_consultation(gone.pk)
    assert "Marché retiré du portail" not in get(client)[0].content.decode()


def test_a_deadline_passing_takes_the_consultation_out_of_the_open_ones_without_any_write(client):
    now = clock.now()
    soon = published(title="Fournitures scolaires", bids_deadline=now + dt.timedelta(hours=1))
    published(title="Travaux de voirie", bids_deadline=now + dt.timedelta(days=20))
    page, _runs = get(client)
    assert "Fournitures scolaires" in page.content.decode()
    with time_machine.travel(soon.bids_deadline + dt.timedelta(seconds=1), tick=False):
        later, runs = get(client)
        assert runs >= 1
        assert "Fournitures scolaires" not in later.content.decode()
        assert "Travaux de voirie" in later.content.decode()
        past, _runs = get(client, state="past")
        assert "Fournitures scolaires" in past.content.decode()


def test_searches_that_move_with_the_clock_are_not_kept(client):
    published(title="Fournitures scolaires")
    get(client, closing_within=30)
    _again, runs = get(client, closing_within=30)
    assert runs >= 1


def test_the_htmx_part_and_the_buyers_page_use_the_same_rules(client):
    buyer = BuyerFactory(name="Commune de Beaune", slug="commune-de-beaune")
    published(organisation=buyer, title="Voirie de Beaune")
    with CaptureQueriesContext(connection) as queries:
        part = client.get(reverse("search:search"), {"q": "voirie"}, headers={"HX-Request": "true"})
        again = client.get(reverse("search:search"), {"q": "voirie"}, headers={"HX-Request": "true"})
    assert part.content == again.content and b"<html" not in part.content
    assert searches_run(queries.captured_queries) >= 1
    page = client.get(reverse("search_root:buyer", args=["commune-de-beaune"]))
    assert "Voirie de Beaune" in page.content.decode()


def test_bad_input_is_answered_and_a_page_beyond_the_last_keeps_its_404(client):
    response, runs = get(client, value_min="beaucoup")
    assert response.status_code == 400 and runs == 0  # an invalid search is answered, never run
    response, runs = get(client, page=3)
    assert response.status_code == 404 and runs >= 1
    again, runs = get(client, page=3)
    assert again.status_code == 404 and runs == 0  # served from the kept copy, with its status
