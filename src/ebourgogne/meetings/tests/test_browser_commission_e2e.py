"""The market commission from end to end, in Chromium, every page checked by axe-core.

A buyer's agent prepares a meeting of the commission through the pages (starting in 30 minutes: inside
the legal delay, so convened urgently with a reason), puts the opening of the bids of a consultation on the
agenda (deadline passed, one bid deposited, encrypted to the commission's real key shares) and convenes
the commission. The convocations leave through the task queue to a real SMTP server; each member follows
the personal link of their own e-mail (opening recorded, then the sign-in), acknowledges and answers
"present". At the session the agent opens it (allowed from one hour before the start), takes the
attendance, two of the three members type their passphrases, the bids are opened (the worker's job run
here), a decision is recorded and the session closed. The agent generates the minutes for the president
and one member; both get a certificate from the platform on /compte/certificats/ and sign in order. The
signed PDF is checked by pyHanko (signatures app) and by pdfsig (the test is skipped, loudly and last, without
poppler-utils).
"""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import urlsplit

import pytest
from django.core.files.storage import default_storage
from django.db import transaction
from django.tasks import task_backends
from django_scopes import scopes_disabled
from playwright.sync_api import expect

from ebourgogne.commissions.models import CommissionMember
from ebourgogne.consultations.models import Consultation
from ebourgogne.core import clock
from ebourgogne.core.clock import PARIS
from ebourgogne.core.worker import make_worker
from ebourgogne.meetings.models import (
    AgendaItem,
    Convocation,
    ConvocationEvent,
    Decision,
    Meeting,
    MeetingState,
    Minutes,
    MinutesSignature,
    MinutesState,
)
from ebourgogne.organisations.roles import Role
from ebourgogne.signatures import services as signatures
from ebourgogne.tenders.models import Opening
from ebourgogne.tenders.tests.opening_helpers import deposit, run_jobs
from ebourgogne.testing.browser import TIMEOUT_MS, assert_accessible
from ebourgogne.testing.factories import BuyerFactory, CompanyFactory, UserFactory, make_member
from ebourgogne.testing.pdfsig import pdfsig, signature_blocks
from ebourgogne.testing.sealing import opening_commission, sealed_consultation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIGNING_PASSPHRASES = {
    "president": "la phrase de signature du président",
    "second": "la phrase de signature de la deuxième membre",
}
LINK = re.compile(r"/seances/lien/[^\s\"'<>]+/")


def run_queue() -> None:
    """What `ebourgogne worker` does: every ready task (here the convocation e-mails)."""
    make_worker(backend=task_backends["default"], batch=True).run()


def personal_link(message) -> str:
    """The path of the personal link in a convocation e-mail's text (its host is the platform's BASE_URL)."""
    text = message.get_body(("plain",)).get_content()
    found = LINK.search(text)
    assert found, text
    return urlsplit(found.group(0)).path


@pytest.fixture
def patient_expect():
    """`expect` waits as long as the page's actions here (signing and timestamping in a request, on a
    loaded machine), then back to the browser fixtures' default for the next tests."""
    expect.set_options(timeout=60_000)
    yield
    expect.set_options(timeout=TIMEOUT_MS)


def test_market_commission_end_to_end(browser_page, browser_sign_in, smtp_server, patient_expect, tmp_path):
    page = browser_page
    page.set_default_timeout(60_000)  # a long scenario on a shared 2-core machine
    buyer = BuyerFactory(name="Conseil régional de Bourgogne", slug="region-bourgogne")
    agent = make_member(buyer, Role.BUYER_AGENT, UserFactory(full_name="Agathe Acheteuse"))
    opening = opening_commission(
        buyer,
        members=3,
        threshold=2,
        name="Commission d'appel d'offres de la Région",
        users=[
            UserFactory(full_name="Pierre Président", email="pierre.president@example.test"),
            UserFactory(full_name="Denise Deuxième", email="denise.deuxieme@example.test"),
            UserFactory(full_name="Tristan Troisième", email="tristan.troisieme@example.test"),
        ],
    )
    president, second, third = opening.members
    with scopes_disabled():
        CommissionMember.objects.filter(commission=opening.commission, user=president).update(is_president=True)
    sealed = sealed_consultation(
        buyer,
        acting_user=agent,
        commission=opening,
        reference="2026-REG-12",
        title="Rénovation thermique du lycée Carnot",
    )
    consultation = sealed.consultation
    company = CompanyFactory(name="Isolation Bourguignonne")
    deposit(consultation, company, [("offre.pdf.age", b"%PDF offre d'Isolation Bourguignonne")])
    with scopes_disabled():
        Consultation.objects.filter(pk=consultation.pk).update(bids_deadline=clock.now() - dt.timedelta(minutes=5))

    # --- The agent prepares the meeting: in 30 minutes (minute precision, Paris time).
    starts = (clock.now() + dt.timedelta(minutes=30)).astimezone(PARIS).replace(second=0, microsecond=0)
    browser_sign_in(page, agent)
    page.goto(f"/organisations/{buyer.slug}/seances/")
    assert_accessible(page, context="meetings list, empty")
    page.get_by_role("link", name="Préparer une séance").click()
    expect(page.get_by_role("button", name="Créer la séance")).to_have_count(1)
    assert_accessible(page, context="new meeting form")
    page.get_by_role("combobox", name=re.compile(r"^Commission")).select_option(str(opening.commission.pk))
    page.get_by_label("Intitulé").fill("CAO — ouverture des plis du lycée Carnot")
    page.get_by_label("Date", exact=True).fill(starts.date().isoformat())
    page.get_by_label("Heure (heure de Paris)").fill(starts.strftime("%H:%M"))
    page.get_by_label("Lieu").fill("Salle des commissions, 17 boulevard de la Trémouille, Dijon")
    page.get_by_role("button", name="Créer la séance").click()
    expect(page.get_by_role("heading", name="CAO — ouverture des plis du lycée Carnot")).to_have_count(1)
    assert_accessible(page, context="meeting page, draft")
    with scopes_disabled():
        meeting = Meeting.objects.get(organisation=buyer)
    assert meeting.starts_at == starts and meeting.state == MeetingState.DRAFT

    # The opening of the bids on the agenda.
    page.get_by_role("link", name="Gérer l'ordre du jour").click()
    page.get_by_label("Nature du point").select_option("opening")
    page.get_by_label("Consultation").select_option(str(consultation.pk))
    page.get_by_role("button", name="Ajouter le point").click()
    expect(page.get_by_text("est ajouté à l'ordre du jour")).to_have_count(1)
    assert_accessible(page, context="agenda with the opening of bids")
    with scopes_disabled():
        item = AgendaItem.objects.get(meeting=meeting)
    assert item.kind == "opening" and item.consultation_id == consultation.pk

    # Convened urgently: the five clear days are not left.
    page.goto(f"/organisations/{buyer.slug}/seances/{meeting.pk}/")
    page.get_by_role("link", name="Convoquer la commission").click()
    expect(page.get_by_text("Ce délai n'est plus respecté")).to_have_count(1)
    assert_accessible(page, context="convene page, late")
    page.get_by_label("Motif de l'urgence").fill("Validité des offres expirant avant la prochaine séance ordinaire")
    page.get_by_role("button", name="Convoquer en urgence").click()
    expect(page.get_by_text("convoquée en urgence", exact=True)).to_have_count(1)
    assert_accessible(page, context="meeting page, convened")
    with scopes_disabled():
        meeting.refresh_from_db()
    assert meeting.state == MeetingState.CONVENED and meeting.is_urgent

    # --- The convocations reach the members' mailboxes.
    run_queue()
    messages = smtp_server.wait_for(3, timeout=60)
    by_address = {message["To"]: message for message in messages}
    assert set(by_address) == {president.email, second.email, third.email}

    for member in (president, second, third):
        path = personal_link(by_address[member.email])
        page.context.clear_cookies()
        page.goto(path)  # signed out: the opening is recorded, then the sign-in page
        expect(page).to_have_url(re.compile(r"/connexion/|/accounts/login/|login"))
        assert_accessible(page, context=f"sign-in page after {member.full_name}'s link")
        browser_sign_in(page, member)
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_have_text(meeting.title)
        assert_accessible(page, context=f"{member.full_name}'s convocation")
        page.get_by_role("button", name="J'accuse réception de la convocation").click()
        expect(page.get_by_text("Votre accusé de réception est enregistré et horodaté.")).to_have_count(1)
        page.get_by_label("Présent", exact=True).check()
        page.get_by_role("button", name="Enregistrer ma réponse").click()
        expect(page.get_by_text("Votre réponse est enregistrée et horodatée.")).to_have_count(1)
        assert_accessible(page, context=f"{member.full_name} acknowledged and answered")

    with scopes_disabled():
        convened = {row.user_id: row for row in Convocation.objects.filter(meeting=meeting)}
        for member in (president, second, third):
            row = convened[member.pk]
            assert row.opened_at and row.acknowledged_at and row.response == "present"
            kinds = set(ConvocationEvent.objects.filter(convocation=row).values_list("kind", flat=True))
            assert {"sent", "opened", "acknowledged", "answered"} <= kinds, kinds

    # --- The session.
    page.context.clear_cookies()
    browser_sign_in(page, agent)
    page.goto(f"/organisations/{buyer.slug}/seances/{meeting.pk}/")
    page.get_by_role("link", name="La séance : présences, quorum, ouverture des plis, décisions").click()
    assert_accessible(page, context="session page, convened")
    page.get_by_role("button", name="Ouvrir la séance").click()
    expect(page.get_by_text("Quorum atteint.")).to_have_count(1)
    assert_accessible(page, context="session opened")

    # The third member leaves the room before the opening: attendance taken.
    page.get_by_label(f"Présence de {third.full_name}").select_option("absent")
    page.get_by_role("button", name="Enregistrer les présences").click()
    expect(page.get_by_text("Quorum atteint.")).to_have_count(1)
    assert_accessible(page, context="attendance taken")

    page.get_by_label(f"Phrase secrète de {president.full_name}").fill(opening.passphrase(president))
    page.get_by_label(f"Phrase secrète de {second.full_name}").fill(opening.passphrase(second))
    page.get_by_role("button", name="Ouvrir les plis").click()
    expect(page.get_by_text("Ouverture en cours.")).to_have_count(1)
    with scopes_disabled():
        bids_opening = Opening.objects.get(consultation=consultation)
    bids_opening = run_jobs(bids_opening)  # the worker's part, in this process
    assert bids_opening.state == "done", bids_opening.error
    page.reload()
    expect(page.get_by_role("heading", name="Procès-verbal d'ouverture")).to_have_count(1)
    expect(page.get_by_role("heading", name="Registre des dépôts")).to_have_count(1)
    assert_accessible(page, context="bids opened")

    page.get_by_label("Nature de la décision").select_option("admitted")
    page.get_by_label(re.compile(r"^Décision")).fill("La candidature d'Isolation Bourguignonne est admise.")
    page.get_by_label(company.name).check()
    page.get_by_label("La commission a voté").check()
    page.get_by_label("Voix pour").fill("2")
    page.get_by_role("button", name="Enregistrer la décision").click()
    expect(page.get_by_text("Vote : 2 pour, 0 contre, 0 abstention(s).")).to_have_count(1)
    assert_accessible(page, context="decision recorded")

    page.get_by_role("button", name="Clore la séance").click()
    expect(page.get_by_text("La séance est close.")).to_have_count(1)
    assert_accessible(page, context="session closed")
    with scopes_disabled():
        assert Meeting.objects.get(pk=meeting.pk).state == MeetingState.CLOSED
        assert Decision.objects.get(agenda_item=item).data["companies"][0]["name"] == company.name

    # --- The minutes: the president and the second member sign, in this order.
    page.get_by_role("link", name="Le procès-verbal de la séance").click()
    assert_accessible(page, context="minutes page, not generated")
    # The third member left before the opening: not among the members who sat, so not offered.
    expect(page.get_by_role("checkbox", name=re.compile(f"^{president.full_name}"))).to_be_checked()
    expect(page.get_by_role("checkbox", name=re.compile(f"^{second.full_name}"))).to_be_checked()
    expect(page.get_by_role("checkbox", name=re.compile(f"^{third.full_name}"))).to_have_count(0)
    page.get_by_role("button", name="Générer le procès-verbal").click()
    expect(page.get_by_text(f"C'est au tour de {president.full_name} (signataire n° 1).")).to_have_count(1)
    assert_accessible(page, context="minutes generated")
    minutes_url = page.url.split("#")[0]

    for signer, key in ((president, "president"), (second, "second")):
        page.context.clear_cookies()
        browser_sign_in(page, signer)
        page.goto("/compte/certificats/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Mes certificats de signature")
        assert_accessible(page, context=f"{signer.full_name}'s certificates, none yet")
        page.locator("#issue_passphrase").fill(SIGNING_PASSPHRASES[key])
        page.get_by_label("Phrase secrète de signature (une seconde fois)").fill(SIGNING_PASSPHRASES[key])
        page.get_by_role("button", name="Obtenir un certificat").click()
        expect(page.locator(".tag").filter(has_text="Utilisable")).to_have_count(1)
        assert_accessible(page, context=f"{signer.full_name}'s certificate issued")

        page.goto(minutes_url)
        expect(page.get_by_text("C'est à vous de signer.")).to_have_count(1)
        assert_accessible(page, context=f"minutes, {signer.full_name}'s turn")
        page.get_by_label("Mot de passe du certificat ou phrase secrète de signature").fill(SIGNING_PASSPHRASES[key])
        page.get_by_role("button", name="Signer", exact=True).click()
        expect(page.get_by_text(re.compile(r"^Vous avez signé le procès-verbal"))).to_have_count(1)
        assert_accessible(page, context=f"minutes signed by {signer.full_name}")

    expect(page.get_by_text("Signé et horodaté")).to_have_count(1)
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le procès-verbal signé (PDF)").click()
    downloaded = download.value.path().read_bytes()

    with scopes_disabled():
        minutes = Minutes.objects.get(meeting=meeting)
        rows = list(MinutesSignature.objects.filter(minutes=minutes).order_by("order"))
        with default_storage.open(minutes.storage_name, "rb") as handle:
            stored = handle.read()
    assert minutes.state == MinutesState.SIGNED
    assert [row.user_id for row in rows] == [president.pk, second.pk]
    assert all(row.signed_at for row in rows)
    assert downloaded == stored

    with transaction.atomic():
        checks = signatures.validate_pdf(downloaded)
    assert [check.kind for check in checks] == ["signature", "signature", "document_timestamp"]
    assert all(check.ok for check in checks), checks
    assert [check.fingerprint for check in checks[:2]] == [row.certificate_fingerprint for row in rows]
    assert president.full_name in checks[0].signer and second.full_name in checks[1].signer
    assert checks[2].covers_file

    # poppler-utils, an independent reader (CI installs it); skips loudly, last, when it is missing.
    path = tmp_path / "pv-signe.pdf"
    path.write_bytes(downloaded)
    blocks = signature_blocks(pdfsig(path))
    assert len(blocks) == 3
    for block, name in zip(blocks[:2], [president.full_name, second.full_name], strict=True):
        assert f"Common Name: {name}" in block
        assert "Signature Validation: Signature is Valid." in block
    assert "Total document signed" in blocks[2]
