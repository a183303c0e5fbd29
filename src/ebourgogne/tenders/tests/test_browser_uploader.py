"""In Chromium, the bid's uploader (templates/tenders/_uploader.html, static/tenders/uploader.js) against the
real upload API: a company member picks two files, the browser encrypts them to the consultation's recipient
and uploads them in chunks; the connection drops (requests aborted) and the page is reloaded mid-upload;
the upload resumes from the server's offset with the ciphertext kept in the Origin Private File System, the
server's SHA-256 equals the SHA-256 of that ciphertext, which decrypts with the age CLI; then the bid is
deposited. Also: axe-core and the keyboard on the widget, the countdown and the page without JavaScript.

The page is the company's bid page (tenders/company/bid.html), which includes the widget."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.tenders.limits import CHUNK_SIZE
from ebourgogne.tenders.models import Bid
from ebourgogne.testing.browser import assert_accessible
from ebourgogne.testing.factories import ConsultationFactory, sign_in
from ebourgogne.testing.sealing import give_test_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AGE = Path("/usr/bin/age")


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
    return f"/organisations/{company.slug}/offres/plis/{bid['id']}/"


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
    # Every file arrived: the widget offers to refresh the page, which then offers the deposit.
    page.get_by_role("link", name="Actualiser la page pour vérifier et déposer le pli").click()
    deposit_link = page.get_by_role("link", name="Vérifier et déposer le pli")
    expect(deposit_link).to_be_visible()
    expect(uploader).to_have_attribute("data-ready", "true")  # the reloaded widget, before it is given a file

    page.route("**/api/v1/companies/*/uploads/*", drop_after_first_chunk)
    page.get_by_label("Ajouter des fichiers à l'offre").set_input_files(str(tmp_path / "memoire-technique.pdf"))
    row = page.locator(".sealed-file", has_text="memoire-technique.pdf")
    expect(row.locator("progress")).to_have_attribute("aria-label", "Envoi de memoire-technique.pdf", timeout=30_000)
    expect(row).to_contain_text("Connexion interrompue", timeout=30_000)  # said plainly, with the retry delay
    expect(deposit_link).to_have_attribute("aria-disabled", "true", timeout=30_000)  # not while uploading
    assert dropped["count"] >= 1
    upload_id = row.get_attribute("data-upload-id")
    assert server_files(draft, company)["memoire-technique.pdf"]["offset"] == CHUNK_SIZE

    # The browser is "closed" mid-upload: reload once the ciphertext is complete in OPFS.
    page.wait_for_function(
        "async (id) => !!(await ebSealed.opfs.readManifest(await ebSealed.opfs.folder(id, false)))",
        arg=upload_id,
        timeout=60_000,
    )
    page.unroute("**/api/v1/companies/*/uploads/*")
    page.reload()
    expect(uploader).to_have_attribute("data-ready", "true")
    row = page.locator(f'.sealed-file[data-upload-id="{upload_id}"]')
    expect(row).to_have_attribute("data-state", "complete", timeout=60_000)
    expect(row.locator("[data-check]")).to_have_attribute("data-check", "same", timeout=30_000)

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

    # Deposit through the pages: refresh, check and confirm.
    page.get_by_role("link", name="Actualiser la page pour vérifier et déposer le pli").click()
    page.get_by_role("link", name="Vérifier et déposer le pli").click()
    page.get_by_label("Je confirme le dépôt de ce pli").check()
    page.get_by_role("button", name="Déposer le pli").click()
    expect(page.get_by_role("heading", name="Pli déposé")).to_be_visible(timeout=30_000)
    with scopes_disabled():
        assert Bid.objects.get(pk=draft["bid"]["id"]).state == "deposited"


def test_an_upload_begun_elsewhere_asks_for_the_file_again_and_the_widget_works_from_the_keyboard(
    browser_page, browser_sign_in, company, company_member, draft, tmp_path
):
    """A file announced and half sent from another computer: its ciphertext is not in this browser, so the
    page says so and offers to pick the file again; the new upload replaces the old one. Then the file is
    removed with the keyboard alone."""
    client = draft["client"]
    recipient = draft["consultation"].opening_key.recipient
    from ebourgogne.testing.sealing import encrypt_to

    elsewhere = encrypt_to(recipient, b"%PDF- begun on another computer" * 100)
    announced = client.post(
        f"/api/v1/companies/{company.slug}/bids/{draft['bid']['id']}/files",
        json.dumps({"envelope": "offer", "name": "prix.pdf", "size": len(elsewhere)}),
        content_type="application/json",
    ).json()
    half = client.generic(
        "PATCH",
        announced["url"],
        elsewhere[:1000],
        content_type="application/offset+octet-stream",
        HTTP_UPLOAD_OFFSET="0",
    )
    assert half.status_code == 204

    page = browser_page
    browser_sign_in(page, company_member)
    page.goto(page_url(company, draft["bid"]))
    expect(page.locator("[data-sealed-uploader]")).to_have_attribute("data-ready", "true")
    row = page.locator(f'.sealed-file[data-upload-id="{announced["upload_id"]}"]')
    expect(row).to_have_attribute("data-state", "missing", timeout=30_000)
    expect(row).to_contain_text("n’est pas conservé sur ce poste")
    assert_accessible(page, context="bid page, upload begun elsewhere")

    (tmp_path / "prix.pdf").write_bytes(b"%PDF- the same file, picked again" * 100)
    with page.expect_file_chooser() as chooser:
        row.get_by_role("button", name="Choisir à nouveau le fichier prix.pdf").click()
    chooser.value.set_files(str(tmp_path / "prix.pdf"))
    new_row = page.locator(".sealed-file", has_text="prix.pdf")
    expect(new_row).to_have_attribute("data-state", "complete", timeout=30_000)
    files = server_files(draft, company)
    assert list(files) == ["prix.pdf"] and files["prix.pdf"]["state"] == "complete"
    assert files["prix.pdf"]["upload_id"] != announced["upload_id"]  # the half upload was removed

    # Keyboard only: Tab until the remove button has the focus, then Enter.
    remove = new_row.get_by_role("button", name="Retirer prix.pdf du pli")
    for _ in range(40):
        if remove.evaluate("b => b === document.activeElement"):
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("the remove button cannot be reached with Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".sealed-file")).to_have_count(0, timeout=30_000)
    expect(page.locator("[data-uploader-live]")).to_have_text("prix.pdf : retiré du pli.")
    assert server_files(draft, company) == {}


def test_a_refusal_of_the_server_is_shown_in_clear(
    browser_page, browser_sign_in, company, company_member, draft, tmp_path
):
    consultation = draft["consultation"]
    with scopes_disabled():
        type(consultation).objects.filter(pk=consultation.pk).update(bid_size_limit=2000)
    page = browser_page
    browser_sign_in(page, company_member)
    page.goto(page_url(company, draft["bid"]))
    expect(page.locator("[data-sealed-uploader]")).to_have_attribute("data-ready", "true")
    expect(page.get_by_text("Taille maximale du pli : 2,0")).to_be_visible()  # announced before any upload
    (tmp_path / "gros.pdf").write_bytes(os.urandom(5000))
    page.get_by_label("Ajouter des fichiers à l'offre").set_input_files(str(tmp_path / "gros.pdf"))
    error = page.locator("[data-uploader-error]")
    expect(error).to_be_visible(timeout=30_000)
    expect(error).to_contain_text("gros.pdf : Ce fichier ferait dépasser la taille maximale d'un pli")
    assert server_files(draft, company) == {}


def test_the_countdown_follows_the_servers_clock_not_the_computers(
    browser_page, browser_sign_in, company, company_member, draft
):
    """The deadline is 12 minutes away on the server; the computer's clock is 3 hours late. The page shows
    about 12 minutes left, warns (last 15 minutes) and announces it once in its live region."""
    import datetime as dt

    from ebourgogne.core import clock

    consultation = draft["consultation"]
    with scopes_disabled():
        type(consultation).objects.filter(pk=consultation.pk).update(
            bids_deadline=clock.now() + dt.timedelta(minutes=12)
        )
    page = browser_page
    page.clock.set_system_time(dt.datetime.now(dt.UTC) - dt.timedelta(hours=3))
    browser_sign_in(page, company_member)
    page.goto(page_url(company, draft["bid"]))
    countdown = page.locator("[data-countdown]")
    expect(countdown).to_have_attribute("data-state", "warning")
    expect(countdown.locator("[data-countdown-value]")).to_contain_text(
        re.compile(r"Temps restant avant la date limite de remise des plis : 00 h 1[12] min")
    )
    expect(countdown.locator("[data-countdown-status]")).to_contain_text("Moins de 15 minutes")
    expect(countdown.locator("[data-countdown-live]")).to_have_text(
        re.compile(r"Il reste 1[12] min avant la date limite")
    )
    assert_accessible(page, context="bid page, last minutes")


def test_without_javascript_the_page_lists_the_files_and_says_javascript_is_needed(
    chromium_browser, live_server, company, company_member, draft
):
    from django.conf import settings

    client = draft["client"]
    context = chromium_browser.new_context(base_url=live_server.url, locale="fr-FR", java_script_enabled=False)
    try:
        context.add_cookies(
            [
                {
                    "name": settings.SESSION_COOKIE_NAME,
                    "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                    "url": live_server.url,
                }
            ]
        )
        page = context.new_page()
        page.goto(page_url(company, draft["bid"]))
        expect(page.get_by_text("nécessite JavaScript")).to_be_visible()
        expect(page.get_by_label("Ajouter des fichiers à l'offre")).to_be_hidden()
        expect(page.get_by_text("Date limite de remise des plis :")).to_be_visible()
    finally:
        context.close()


def test_without_opfs_the_file_is_encrypted_and_uploaded_in_one_pass_and_resumes_within_the_page(
    browser_page, browser_sign_in, company, company_member, draft, tmp_path
):
    """A browser without the Origin Private File System: the page says that closing it would lose the
    upload, encrypts and uploads in one pass, still resumes a dropped connection (the unacknowledged chunk
    is kept in memory), and the file the server stored decrypts with the age CLI."""
    from ebourgogne.tenders import uploads
    from ebourgogne.tenders.models import BidFile

    page = browser_page
    page.add_init_script("delete StorageManager.prototype.getDirectory;")
    browser_sign_in(page, company_member)
    plaintext = os.urandom(CHUNK_SIZE + 54_321)
    (tmp_path / "offre.pdf").write_bytes(plaintext)
    failed_once = {"done": False}

    def fail_second_chunk_once(route):
        if route.request.method == "PATCH" and route.request.headers.get("upload-offset") == str(CHUNK_SIZE):
            if not failed_once["done"]:
                failed_once["done"] = True
                route.abort("connectionreset")
                return
        route.continue_()

    page.route("**/api/v1/companies/*/uploads/*", fail_second_chunk_once)
    page.goto(page_url(company, draft["bid"]))
    expect(page.locator("[data-sealed-uploader]")).to_have_attribute("data-ready", "true")
    expect(page.get_by_text("Votre navigateur ne peut pas conserver les fichiers chiffrés")).to_be_visible()
    page.get_by_label("Ajouter des fichiers à l'offre").set_input_files(str(tmp_path / "offre.pdf"))
    row = page.locator(".sealed-file", has_text="offre.pdf")
    expect(row).to_have_attribute("data-state", "complete", timeout=60_000)
    assert failed_once["done"]
    expect(row.locator("[data-check]")).to_have_count(0)  # nothing kept here to compare with

    with scopes_disabled():
        stored = BidFile.objects.get(bid_id=draft["bid"]["id"])
        path = uploads.path_of(stored)
        assert stored.state == "complete" and stored.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "identity.txt").write_text(draft["identity"] + "\n")
    decrypted = subprocess.run(  # noqa: S603 (our own fixed arguments)
        [str(AGE), "-d", "-i", str(tmp_path / "identity.txt"), str(path)], capture_output=True, check=True
    )
    assert decrypted.stdout == plaintext


def test_several_files_picked_at_once_all_arrive(
    browser_page, browser_sign_in, company, company_member, draft, tmp_path
):
    """Five files in one pick: at most two are encrypted and sent at a time, the others wait their turn."""
    page = browser_page
    browser_sign_in(page, company_member)
    names = [f"piece-{n}.pdf" for n in range(5)]
    for n, name in enumerate(names):
        (tmp_path / name).write_bytes(os.urandom(50_000 + n))
    page.goto(page_url(company, draft["bid"]))
    expect(page.locator("[data-sealed-uploader]")).to_have_attribute("data-ready", "true")
    page.get_by_label("Ajouter des fichiers à la candidature").set_input_files([str(tmp_path / n) for n in names])
    expect(page.locator(".sealed-file[data-state=complete]")).to_have_count(5, timeout=60_000)
    files = server_files(draft, company)
    assert sorted(files) == names
    assert {f["state"] for f in files.values()} == {"complete"}
    assert {f["envelope"] for f in files.values()} == {"application"}


def test_after_the_deadline_the_countdown_says_a_deposit_would_be_late(
    browser_page, browser_sign_in, company, company_member, draft
):
    import datetime as dt

    from ebourgogne.core import clock

    consultation = draft["consultation"]
    with scopes_disabled():
        type(consultation).objects.filter(pk=consultation.pk).update(
            bids_deadline=clock.now() - dt.timedelta(minutes=1)
        )
    page = browser_page
    browser_sign_in(page, company_member)
    page.goto(page_url(company, draft["bid"]))
    countdown = page.locator("[data-countdown]")
    expect(countdown).to_have_attribute("data-state", "passed")
    expect(countdown.locator("[data-countdown-status]")).to_have_text(
        "La date limite de remise des plis est passée : un pli déposé maintenant est hors délai et ne sera pas ouvert."
    )
    expect(countdown.locator("[data-countdown-line]")).to_be_hidden()
    expect(countdown.locator("[data-countdown-live]")).to_have_text("")  # nothing to announce on arrival
