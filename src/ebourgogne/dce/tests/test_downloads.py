"""Public downloads: without account, streaming, one range, ETag and If-None-Match / If-Range,
X-Accel-Redirect, the register (one row per download, anonymous ones counted), drafts never served."""

from __future__ import annotations

import hashlib

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from ebourgogne.dce import services
from ebourgogne.dce.models import DceFile, Download
from ebourgogne.dce.tests.helpers import add_file, published_with_files, version
from ebourgogne.testing.factories import ConsultationFactory, sign_in

pytestmark = pytest.mark.django_db

CONTENT = bytes(range(256)) * 40  # 10 240 bytes


@pytest.fixture
def consultation(buyer, buyer_agent):
    return published_with_files(buyer, buyer_agent, {"CCTP.pdf": CONTENT, "RC.pdf": b"%PDF rc"})


def _file(consultation, name="CCTP.pdf"):
    with scopes_disabled():
        return DceFile.objects.get(consultation=consultation, name=name)


def _url(consultation, name="CCTP.pdf"):
    return reverse("dce_public:file", kwargs={"pk": consultation.pk, "file_id": _file(consultation, name).pk})


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _downloads(consultation):
    with scopes_disabled():
        return list(Download.objects.filter(consultation=consultation).values_list("file__name", "downloader__email"))


def test_anonymous_download_streams_the_file_and_counts_it(client, consultation, django_assert_max_num_queries):
    url = _url(consultation)
    with django_assert_max_num_queries(2):  # the file with the current version, the register row
        response = client.get(url)
    assert response.status_code == 200 and response.streaming
    assert _body(response) == CONTENT
    assert response["Content-Length"] == str(len(CONTENT))
    assert response["ETag"] == f'"{hashlib.sha256(CONTENT).hexdigest()}"'
    assert response["Accept-Ranges"] == "bytes"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="CCTP.pdf"'
    assert _downloads(consultation) == [("CCTP.pdf", None)]


def test_range_requests(client, consultation):
    url = _url(consultation)
    response = client.get(url, HTTP_RANGE="bytes=100-199")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes 100-199/{len(CONTENT)}" and response["Content-Length"] == "100"
    assert _body(response) == CONTENT[100:200]
    response = client.get(url, HTTP_RANGE="bytes=10000-")
    assert response.status_code == 206 and _body(response) == CONTENT[10000:]
    response = client.get(url, HTTP_RANGE="bytes=-40")
    assert response.status_code == 206 and _body(response) == CONTENT[-40:]
    response = client.get(url, HTTP_RANGE="bytes=5000-999999")  # clipped to the end
    assert response["Content-Range"] == f"bytes 5000-{len(CONTENT) - 1}/{len(CONTENT)}"
    response = client.get(url, HTTP_RANGE=f"bytes={len(CONTENT)}-")
    assert response.status_code == 416 and response["Content-Range"] == f"bytes */{len(CONTENT)}"
    response = client.get(url, HTTP_RANGE="bytes=0-1,5-6")  # several ranges: the whole file
    assert response.status_code == 200 and _body(response) == CONTENT
    response = client.get(url, HTTP_RANGE="lignes=1-2")
    assert response.status_code == 200
    # Counted once per download: the full answers and the range starting at 0, not resumed parts.
    assert len(_downloads(consultation)) == 2


def test_conditional_requests(client, consultation):
    url = _url(consultation)
    etag = client.get(url)["ETag"]
    response = client.get(url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response.content == b"" and response["ETag"] == etag
    assert client.get(url, HTTP_IF_NONE_MATCH=f"W/{etag}").status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"autre"').status_code == 200
    response = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag)
    assert response.status_code == 206 and _body(response) == CONTENT[:10]
    response = client.get(url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"ancienne-version"')
    assert response.status_code == 200 and _body(response) == CONTENT
    assert client.head(url).status_code == 200
    assert len(_downloads(consultation)) == 4  # 304 and HEAD are not downloads


def test_x_accel_redirect_hands_the_file_to_nginx(client, consultation, settings):
    settings.DCE_X_ACCEL_REDIRECT = "/_dce/"
    dce_file = _file(consultation)
    response = client.get(_url(consultation))
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == f"/_dce/{dce_file.storage_name}"
    assert response["Content-Disposition"] == 'attachment; filename="CCTP.pdf"'
    assert response["ETag"] == f'"{dce_file.sha256}"'
    assert client.get(_url(consultation), HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert _downloads(consultation) == [("CCTP.pdf", None)]


def test_non_ascii_name_in_content_disposition(client, buyer, buyer_agent):
    consultation = published_with_files(buyer, buyer_agent, {"Règlement été.pdf": b"rc"}, archive=False)
    response = client.get(_url(consultation, "Règlement été.pdf"))
    assert "filename*=utf-8''R%C3%A8glement%20%C3%A9t%C3%A9.pdf" in response["Content-Disposition"]


def test_zip_of_the_current_version(client, consultation):
    url = reverse("dce_public:archive", kwargs={"pk": consultation.pk})
    response = client.get(url)
    v1 = version(consultation, 1)
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert hashlib.sha256(_body(response)).hexdigest() == v1.archive_sha256
    assert response["Content-Disposition"] == f'attachment; filename="DCE-{consultation.pk}-v1.zip"'
    assert _downloads(consultation) == [(None, None)]


def test_zip_not_built_yet_says_so(client, buyer, buyer_agent):
    consultation = published_with_files(buyer, buyer_agent, {"RC.pdf": b"rc"}, archive=False)
    response = client.get(reverse("dce_public:archive", kwargs={"pk": consultation.pk}))
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert "en préparation" in response.content.decode()


def test_drafts_are_never_downloadable(client, buyer, buyer_agent, consultation):
    draft = ConsultationFactory(organisation=buyer)
    draft_file = add_file(buyer_agent, draft, "secret.pdf", b"secret")
    assert client.get(reverse("dce_public:file", kwargs={"pk": draft.pk, "file_id": draft_file.pk})).status_code == 404
    assert client.get(reverse("dce_public:archive", kwargs={"pk": draft.pk})).status_code == 404
    assert client.get(reverse("dce_public:identify", kwargs={"pk": draft.pk})).status_code == 404
    # A file added to a published consultation but not yet published (version being prepared).
    pending = add_file(buyer_agent, consultation, "Plan.pdf", b"plan")
    assert (
        client.get(reverse("dce_public:file", kwargs={"pk": consultation.pk, "file_id": pending.pk})).status_code == 404
    )
    # A file of another consultation through this one's URL.
    assert (
        client.get(reverse("dce_public:file", kwargs={"pk": consultation.pk, "file_id": draft_file.pk})).status_code
        == 404
    )
    # A file removed in a published rectification is no longer offered.
    services.remove_file(acting_user=buyer_agent, consultation=consultation, dce_file=_file(consultation, "RC.pdf"))
    old_url = _url(consultation, "RC.pdf")
    assert client.get(old_url).status_code == 200  # still public until the rectification is published
    services.publish_changes(acting_user=buyer_agent, consultation=consultation, reason="RC retiré")
    assert client.get(old_url).status_code == 404


def test_identified_downloads_are_registered(client, consultation):
    url = reverse("dce_public:identify", kwargs={"pk": consultation.pk})
    form = client.get(url, {"next": _url(consultation)})
    assert form.status_code == 200
    response = client.post(url, {"name": "Marie Dupont", "company_name": "Menuiserie", "email": "bad", "next": ""})
    assert response.status_code == 400 and "adresse électronique valide" in response.content.decode()
    response = client.post(
        url,
        {
            "name": "Marie Dupont",
            "company_name": "Menuiserie",
            "email": "marie@exemple.test",
            "next": _url(consultation),
        },
    )
    assert response.status_code == 302 and response["Location"] == _url(consultation)
    client.get(response["Location"])
    assert _downloads(consultation) == [("CCTP.pdf", "marie@exemple.test")]
    # An outside `next` is not followed.
    response = client.post(url, {"email": "marie@exemple.test", "next": "https://ailleurs.example/"})
    assert response["Location"] == f"/consultations/{consultation.pk}/"


def test_signed_in_company_user_is_registered_with_the_account(client, consultation, company_member, company):
    sign_in(client, company_member)
    form = client.get(reverse("dce_public:identify", kwargs={"pk": consultation.pk}))
    assert company_member.email in form.content.decode() and company.name in form.content.decode()
    client.post(
        reverse("dce_public:identify", kwargs={"pk": consultation.pk}),
        {"name": "Camille", "company_name": company.name, "email": company_member.email},
    )
    client.cookies.clear()
    sign_in(client, company_member)
    client.get(_url(consultation))
    assert _downloads(consultation) == [("CCTP.pdf", company_member.email)]
    with scopes_disabled():
        downloader = Download.objects.get(consultation=consultation).downloader
    assert downloader.user == company_member and downloader.company == company


def test_public_block_on_the_consultation_page(rf, consultation):
    from django.template import Context, Template

    request = rf.get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    html = Template("{% load dce_public %}{% dce_public_block consultation %}").render(
        Context({"consultation": consultation, "request": request})
    )
    assert "CCTP.pdf" in html and "10,0\xa0Kio" in html and "PDF" in html
    assert reverse("dce_public:archive", kwargs={"pk": consultation.pk}) in html
    assert "Taille maximale du DCE de cette consultation : 2,0\xa0Gio" in html
    assert 'name="email"' in html


def test_the_consultation_pages_carry_the_dce_blocks(client, consultation, buyer_agent):
    from django.test import Client

    page = client.get(f"/consultations/{consultation.pk}/")
    html = page.content.decode()
    assert page.status_code == 200 and "CCTP.pdf" in html and "Télécharger tout le DCE (ZIP)" in html
    # The identification form posts with a valid CSRF token from the page.
    strict = Client(enforce_csrf_checks=True)
    html = strict.get(f"/consultations/{consultation.pk}/").content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    response = strict.post(
        reverse("dce_public:identify", kwargs={"pk": consultation.pk}),
        {"csrfmiddlewaretoken": token, "email": "lea@exemple.test", "next": f"/consultations/{consultation.pk}/"},
    )
    assert response.status_code == 302
    assert "Vous êtes identifié·e pour cette consultation" in strict.get(response["Location"]).content.decode()
    sign_in(client, buyer_agent)
    buyer_page = client.get(f"/organisations/{consultation.organisation.slug}/consultations/{consultation.pk}/")
    assert buyer_page.status_code == 200 and "Gérer le DCE" in buyer_page.content.decode()


def test_a_signed_in_company_user_is_identified_by_the_account_without_a_form(
    client, consultation, company_member, company
):
    sign_in(client, company_member)
    html = client.get(f"/consultations/{consultation.pk}/").content.decode()
    assert f"Vous êtes connecté·e au nom de {company.name}" in html and 'name="email"' not in html
    client.get(_url(consultation))
    client.get(_url(consultation))
    assert _downloads(consultation) == [("CCTP.pdf", company_member.email)] * 2
    with scopes_disabled():
        downloader = Download.objects.filter(consultation=consultation).first().downloader
    assert downloader.user == company_member and downloader.company == company
    assert downloader.company_name == company.name
    # One who had unsubscribed stays unsubscribed: downloading again does not sign them up.
    services.unsubscribe(token=services.unsubscribe_token(downloader))
    client.get(_url(consultation))
    from ebourgogne.dce import selectors

    assert selectors.identified_downloaders(consultation) == []


def test_a_signed_in_buyer_downloads_anonymously(client, consultation, outsider):
    sign_in(client, outsider)
    client.get(_url(consultation))
    assert _downloads(consultation) == [("CCTP.pdf", None)]


def test_identification_is_throttled_per_address(client, consultation, settings):
    from django.core.cache import cache

    from ebourgogne.dce import views

    cache.clear()
    url = reverse("dce_public:identify", kwargs={"pk": consultation.pk})
    for number in range(views.IDENTIFY_LIMIT):
        assert client.post(url, {"email": f"p{number}@exemple.test"}).status_code == 302
    response = client.post(url, {"email": "robot@exemple.test"})
    assert response.status_code == 429 and "Trop de tentatives" in response.content.decode()
    cache.clear()


@pytest.mark.parametrize(("audience", "language"), [("entreprises", "fr"), ("acheteurs", "en")])
def test_help_pages_explain_the_dce(client, audience, language):
    client.cookies["ebourgogne_language"] = language
    html = client.get(f"/aide/{audience}/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert ("Dossiers de consultation (DCE)" if language == "fr" else "Tender files (DCE)") in html
