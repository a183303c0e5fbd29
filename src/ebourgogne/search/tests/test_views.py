"""The search page, its feed, buyers' pages and the sitemap: public, valid output, bad input answered clearly."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import translation

from ebourgogne.consultations.models import State
from ebourgogne.core import clock
from ebourgogne.search.tests.conftest import published
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, ConsultationFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def content(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_search_page_lists_open_consultations_with_their_details(client):
    buyer = BuyerFactory(name="Commune de Beaune", slug="commune-de-beaune")
    deadline = dt.datetime(2031, 3, 31, 10, 0, tzinfo=dt.UTC)  # 12:00 in Paris (summer time)
    consultation = published(
        organisation=buyer, title="Travaux de voirie rue Carnot", procedure="mapa", bids_deadline=deadline
    )
    response = client.get(reverse("search:search"))
    assert response.status_code == 200
    html = content(response)
    assert "Travaux de voirie rue Carnot" in html
    assert "Commune de Beaune" in html
    assert "Procédure adaptée (MAPA)" in html
    assert "31/03/2031 12:00" in html
    assert f'href="/consultations/{consultation.pk}/"' in html
    assert 'href="/acheteurs/commune-de-beaune/"' in html
    assert 'role="search"' in html and "<legend>" in html and 'for="id_q"' in html


def test_search_page_works_with_htmx_returning_only_the_results(client):
    published(title="Voirie")
    response = client.get(reverse("search:search"), {"q": "voirie"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = content(response)
    assert "Voirie" in html
    assert "<html" not in html and "<form" not in html
    assert "HX-Request" in response["Vary"]


def test_drafts_do_not_appear_on_any_page(client):
    buyer = BuyerFactory(slug="acheteur")
    ConsultationFactory(organisation=buyer, title="Brouillon confidentiel")
    for url in (
        reverse("search:search") + "?state=all",
        reverse("search_root:buyer", args=["acheteur"]),
        reverse("search:feed") + "?state=all",
    ):
        assert "confidentiel" not in content(client.get(url))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"deadline_from": "2026-13-45"}, "Saisissez une date valide."),
        ({"deadline_from": "0001-01-01"}, "Choisissez une date entre 2000 et 2100."),
        ({"deadline_from": "2027-02-01", "deadline_to": "2027-01-01"}, "La date de fin précède la date de début."),
        ({"value_min": "-5"}, "supérieure ou égale à 0"),
        ({"value_min": "abc"}, "Saisissez un nombre."),
        ({"value_min": "1000", "value_max": "10"}, "La valeur maximale est inférieure à la valeur minimale."),
        ({"cpv": "99999999"}, "Le code CPV 99999999 n&#x27;existe pas."),
        ({"cpv": "45'; DROP"}, "Un code CPV s&#x27;écrit avec 8 chiffres"),
        ({"closing_within": "-3"}, "supérieure ou égale à 1"),
        ({"buyer": "inconnu"}, "Aucun acheteur public ne porte cet identifiant."),
        ({"page": "0"}, "supérieure ou égale à 1"),
        ({"page": "51"}, "Seules les 50 premières pages"),
        ({"page": "x"}, "Saisissez un nombre entier."),
        ({"procedure": "nope"}, "Sélectionnez un choix valide."),
        ({"q": "x" * 300}, "au plus 200 caractères"),
    ],
)
def test_bad_input_gives_a_clear_message_and_400(client, params, message):
    published()
    response = client.get(reverse("search:search"), params)
    assert response.status_code == 400
    assert message in content(response)
    assert "consultation trouvée" not in content(response)


def test_page_out_of_range_is_explained(client):
    published()
    response = client.get(reverse("search:search"), {"page": "4"})
    assert response.status_code == 404
    assert "Cette page de résultats n'existe pas" in content(response)


def test_query_with_fts_and_sql_syntax_is_plain_words(client):
    consultation = published(title="Voirie de l'école")
    for query in [
        '"voirie',
        "voirie*",
        "voirie -école",
        "title:voirie",
        "(voirie) OR 1=1",
        "voirie NEAR école",
        "voirie'; --",
    ]:
        response = client.get(reverse("search:search"), {"q": query})
        assert response.status_code == 200, query
    response = client.get(reverse("search:search"), {"q": '"voirie" (école)*'})
    assert f"/consultations/{consultation.pk}/" in content(response)


def test_pages_in_english(client):
    published(title="Voirie")
    with translation.override("en"):
        response = client.get(reverse("search:search"), headers={"Accept-Language": "en"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200


def test_atom_feed_of_a_search_is_valid_atom(client):
    newer = published(title="Voirie récente", published_at=clock.now() - dt.timedelta(hours=1))
    older = published(title="Voirie ancienne", published_at=clock.now() - dt.timedelta(days=3))
    published(title="Repas")
    response = client.get(reverse("search:feed"), {"q": "voirie"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 (our own output)
    assert root.tag == f"{ATOM}feed"
    assert root.find(f"{ATOM}id") is not None and root.find(f"{ATOM}updated") is not None
    entries = root.findall(f"{ATOM}entry")
    assert [entry.find(f"{ATOM}title").text for entry in entries] == ["Voirie récente", "Voirie ancienne"]
    for entry, consultation in zip(entries, (newer, older), strict=True):
        assert entry.find(f"{ATOM}link").get("href") == f"http://testserver/consultations/{consultation.pk}/"
        assert entry.find(f"{ATOM}id").text and entry.find(f"{ATOM}updated").text


def test_feed_link_carries_the_search(client):
    published(title="Voirie")
    html = content(client.get(reverse("search:search"), {"q": "voirie", "department": "21"}))
    assert 'href="/consultations/flux.atom?department=21&amp;q=voirie"' in html


def test_feed_with_bad_input_is_a_400(client):
    response = client.get(reverse("search:feed"), {"deadline_from": "demain"})
    assert response.status_code == 400
    assert "Saisissez une date valide." in response.content.decode()


def test_buyer_page_lists_its_public_consultations(client):
    buyer = BuyerFactory(name="Département de l'Yonne", slug="departement-de-l-yonne")
    mine = published(organisation=buyer, title="Collèges de l'Yonne")
    past = published(
        organisation=buyer,
        title="Ancien marché",
        state=State.AWARDED,
        bids_deadline=clock.now() - dt.timedelta(days=100),
    )
    published(title="Marché d'un autre acheteur")
    response = client.get(reverse("search_root:buyer", args=["departement-de-l-yonne"]))
    assert response.status_code == 200
    html = content(response)
    assert "Département de l&#x27;Yonne" in html
    assert f"/consultations/{mine.pk}/" in html and f"/consultations/{past.pk}/" in html
    assert "autre acheteur" not in html


def test_buyer_page_of_unknown_or_company_is_404(client):
    company = CompanyFactory()
    assert client.get(reverse("search_root:buyer", args=["inconnu"])).status_code == 404
    assert client.get(reverse("search_root:buyer", args=[company.slug])).status_code == 404


def test_sitemap_lists_portal_buyer_and_consultation_pages(client):
    consultation = published(title="Voirie")
    ConsultationFactory(title="Brouillon")
    index = ET.fromstring(content(client.get("/sitemap.xml")))  # noqa: S314 (our own output)
    assert index.tag == f"{SITEMAP}sitemapindex"
    locations = [node.text for node in index.iter(f"{SITEMAP}loc")]
    urls = []
    for location in locations:
        response = client.get(location.replace("http://testserver", ""))
        assert response.status_code == 200
        root = ET.fromstring(content(response))  # noqa: S314 (our own output)
        assert root.tag == f"{SITEMAP}urlset"
        urls += [node.text for node in root.iter(f"{SITEMAP}loc")]
    assert "http://testserver/" in urls
    assert "http://testserver/consultations/" in urls
    assert f"http://testserver/consultations/{consultation.pk}/" in urls
    assert f"http://testserver/acheteurs/{consultation.organisation.slug}/" in urls
    assert (
        len(
            [
                url
                for url in urls
                if url.startswith("http://testserver/consultations/") and url.rstrip("/").split("/")[-1].isdigit()
            ]
        )
        == 1
    )
    assert client.get("/sitemap-inconnu.xml").status_code == 404
    assert client.get("/sitemap-consultations-99.xml").status_code == 404


def test_search_views_only_answer_reads(client):
    assert client.post(reverse("search:search")).status_code == 405
    assert client.post(reverse("search:feed")).status_code == 405


def test_every_search_url_declares_public_access():
    from ebourgogne.core.access import policy_of
    from ebourgogne.search import urls, urls_root

    for pattern in [*urls.urlpatterns, *urls_root.urlpatterns]:
        assert policy_of(pattern.callback).kind == "public", pattern.name
