"""In Chromium, the bid's uploader (templates/tenders/_uploader.html, static/tenders/uploader.js) against the
real upload API: a company member picks two files, the browser encrypts them to the consultation's recipient
and uploads them in chunks; the connection drops (requests aborted) and the page is reloaded mid-upload;
the upload resumes from the server's offset with the ciphertext kept in the Origin Private File System, the
server's SHA-256 equals the SHA-256 of that ciphertext, which decrypts with the age CLI; then the bid is
deposited. Also: axe-core and the keyboard on the widget, the countdown and the page without JavaScript.

The page is the widget included in a minimal bid page (this module's URLs), as the bid page includes it."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import include, path
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.core.access import organisation_view
from ebourgogne.tenders.limits import CHUNK_SIZE
from ebourgogne.tenders.models import Bid
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import ConsultationFactory, sign_in
from ebourgogne.testing.sealing import give_test_key
from ebourgogne.urls import urlpatterns as project_urlpatterns

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

AGE = Path("/usr/bin/age")

PAGE = """{% extends "base.html" %}{% load static %}
{% block extra_head %}<link rel="stylesheet" href="{% static 'tenders/tenders.css' %}">{% endblock %}
{% block content %}<h1>Pli pour {{ consultation.title }}</h1>
{% include "tenders/_uploader.html" with consultation=consultation organisation=organisation bid=bid %}
<form data-bid-deposit method="post" action="#"><button type="submit" class="button">Déposer le pli</button></form>
{% endblock %}"""


@organisation_view("bids.submit")
def bid_page(request: HttpRequest, organisation, bid_pk: int) -> HttpResponse:
    bid = Bid.objects.select_related("consultation").get(pk=bid_pk, company=organisation)
    template = engines["django"].from_string(PAGE)
    context = {"consultation": bid.consultation, "organisation": organisation, "bid": bid}
    return HttpResponse(template.render(context, request))


urlpatterns = [
    path("test-pli/<slug:org_slug>/<int:bid_pk>/", bid_page),
    path("", include(project_urlpatterns)),
]


@pytest.fixture
def draft(company, company_member, buyer):
    with scopes_disabled():
        consultation = ConsultationFactory(organisation=buyer, published=True, title="Voirie de Beaune")
    identity = give_test_key(consultation)
    from django.test import Client

    client = sign_in(Client(), company_member)
    answer = client.post(
        f"/api/v1/companies/{company.slug}/bids",
        json.dumps({"consultation": consultation.pk}),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    return {"client": client, "bid": answer.json(), "identity": identity, "consultation": consultation}


def page_url(company, bid) -> str:
    return f"/test-pli/{company.slug}/{bid['id']}/"


def server_files(draft, company) -> dict[str, dict]:
    answer = draft["client"].get(f"/api/v1/companies/{company.slug}/bids/{draft['bid']['id']}")
    return {f["name"]: f for f in answer.json()["files"]}


OPFS_CIPHERTEXT = """async (uploadId) => {
  const folder = await ebSealed.opfs.folder(uploadId, false);
  const manifest = await ebSealed.opfs.readManifest(folder);
  const parts = [];
  for (let i = 0; i < manifest.chunks; i++) parts.push(await ebSealed.opfs.readChunk(folder, i));
  const whole = new Uint8Array(await new Blob(parts).arrayBuffer());
  let text = "";
  for (let i = 0; i < whole.length; i += 32768) text += String.fromCharCode(...whole.subarray(i, i + 32768));
  return btoa(text);
}"""


def test_two_files_encrypted_interrupted_resumed_and_deposited(
    browser_page, browser_sign_in, company, company_member, draft, tmp_path
):
    page = browser_page
    browser_sign_in(page, company_member)
    big = os.urandom(2 * CHUNK_SIZE + 123_457)  # three chunks of ciphertext
    small = os.urandom(70_000)
    (tmp_path / "memoire-technique.pdf").write_bytes(big)
    (tmp_path / "kbis.pdf").write_bytes(small)

    # The connection "drops" for the big file after its first chunk: every later PATCH fails.
    dropped = {"count": 0}

    def drop_after_first_chunk(route):
        offset = int(route.request.headers.get("upload-offset", "0"))
        if route.request.method == "PATCH" and offset >= CHUNK_SIZE:
            dropped["count"] += 1
            route.abort("connectionreset")
        else:
            route.continue_()

    page.goto(page_url(company, draft["bid"]))
    uploader = page.locator("[data-sealed-uploader]")
    expect(uploader).to_have_attribute("data-ready", "true")
    expect(page.get_by_text("nécessite JavaScript")).to_be_hidden()
    assert_accessible(page, context="bid page, empty")

    page.get_by_label("Ajouter des fichiers à la candidature").set_input_files(str(tmp_path / "kbis.pdf"))
    expect(page.locator(".sealed-file[data-state=complete]")).to_have_count(1, timeout=30_000)

    page.route("**/api/v1/companies/*/uploads/*", drop_after_first_chunk)
    page.get_by_label("Ajouter des fichiers à l'offre").set_input_files(str(tmp_path / "memoire-technique.pdf"))
    row = page.locator(".sealed-file", has_text="memoire-technique.pdf")
    expect(row.locator("progress")).to_have_attribute("aria-label", "Envoi de memoire-technique.pdf")
    expect(row).to_contain_text("Connexion interrompue", timeout=30_000)  # said plainly, with the retry delay
    expect(page.get_by_role("button", name="Déposer le pli")).to_be_disabled()  # not while uploading
    assert dropped["count"] >= 1
    upload_id = row.get_attribute("data-upload-id")
    assert server_files(draft, company)["memoire-technique.pdf"]["offset"] == CHUNK_SIZE

    # The browser is "closed" mid-upload: reload once the ciphertext is complete in OPFS.
    page.wait_for_function(
        "async (id) => !!(await ebSealed.opfs.readManifest(await ebSealed.opfs.folder(id, false)))", arg=upload_id
    )
    page.unroute("**/api/v1/companies/*/uploads/*")
    page.reload()
    expect(uploader).to_have_attribute("data-ready", "true")
    row = page.locator(f'.sealed-file[data-upload-id="{upload_id}"]')
    expect(row).to_have_attribute("data-state", "complete", timeout=60_000)
    expect(row.locator("[data-check]")).to_have_attribute("data-check", "same")
    expect(page.get_by_role("button", name="Déposer le pli")).to_be_enabled()

    files = server_files(draft, company)
    assert {f["state"] for f in files.values()} == {"complete"}
    ciphertext = base64.b64decode(page.evaluate(OPFS_CIPHERTEXT, upload_id))
    assert files["memoire-technique.pdf"]["sha256"] == hashlib.sha256(ciphertext).hexdigest()
    assert files["memoire-technique.pdf"]["size"] == len(ciphertext)
    (tmp_path / "identity.txt").write_text(draft["identity"] + "\n")
    (tmp_path / "offre.age").write_bytes(ciphertext)
    decrypted = subprocess.run(  # noqa: S603 (our own fixed arguments)
        [str(AGE), "-d", "-i", str(tmp_path / "identity.txt"), str(tmp_path / "offre.age")],
        capture_output=True,
        check=True,
    )
    assert decrypted.stdout == big
    assert_accessible(page, context="bid page, files received")

    # Deposit from the page's session (the live server's thread, as the bid page's deposit does).
    status = page.evaluate(
        """async (url) => {
          const token = document.querySelector("[data-sealed-uploader] input[name=csrfmiddlewaretoken]").value;
          const r = await fetch(url, {method: "POST", headers: {"X-CSRFToken": token, "Content-Type": "application/json"},
                                      body: "{}"});
          return r.status;
        }""",
        f"/api/v1/companies/{company.slug}/bids/{draft['bid']['id']}/deposit",
    )
    assert status == 201
    with scopes_disabled():
        assert Bid.objects.get(pk=draft["bid"]["id"]).state == "deposited"
