"""The letters: what they say (R2181-1 to -4, R2182-1), the standstill dates with time-machine, their
storage and hash, the proofs of sending and reading verified with `timestamping.authority.verify`,
the e-mails through the real SMTP test server, and who may read them."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import subprocess
from decimal import Decimal as D

import pytest
import time_machine
from django.core.files.storage import default_storage
from django_scopes import scopes_disabled

from ebourgogne.awards import evidence, letters, selectors, services
from ebourgogne.awards.models import Letter, LetterEvent, LetterKind
from ebourgogne.core.errors import DomainError, NotFound
from ebourgogne.testing.awards import criteria, opened_consultation
from ebourgogne.timestamping import authority as tsa

pytestmark = pytest.mark.django_db

# Tuesday 26 October 2027, 18:30 in Paris (summer time): the clocks go back on Sunday 31 October.
SENT = dt.datetime(2027, 10, 26, 16, 30, tzinfo=dt.UTC)


def pdf_text(data: bytes, tmp_path) -> str:
    binary = shutil.which("pdftotext")
    if binary is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: the independent check did NOT run")
    path = tmp_path / "letter.pdf"
    path.write_bytes(data)
    done = subprocess.run([binary, str(path), "-"], capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    assert done.returncode == 0, done.stderr
    return " ".join(done.stdout.split())


@pytest.fixture(autouse=True)
def authority_made_now(db):
    """Make sure the embedded authority exists before a test travels in time (its certificate starts now)."""
    tsa.get_authority()


def _decided(opened, user, *, outcome="awarded", **decision):
    services.evaluations_ensure(consultation=opened.consultation)
    evaluation = selectors.evaluations_of(opened.consultation)[0]
    if outcome != "awarded":
        return services.award_decide(acting_user=user, evaluation=evaluation, outcome=outcome, **decision)
    for bid in opened.bids:
        services.admission_decide(acting_user=user, consultation=opened.consultation, bid=bid, decision="admitted")
    services.criteria_set(acting_user=user, evaluation=evaluation, **criteria())
    leaves = [leaf for leaf in selectors.leaves_of(selectors.criteria_tree(evaluation)) if leaf.kind == "quality"]
    view = selectors.evaluation_view(evaluation)
    offers = sorted((row.offer for row in view.rows), key=lambda offer: offer.bid.number)
    for offer, price, marks in zip(offers, ["100000", "80000", "125000"], [[16, 12], [10, 10], [20, 20]], strict=True):
        services.offer_set_price(acting_user=user, evaluation=evaluation, offer=offer, price=price)
        services.scores_set(
            acting_user=user,
            evaluation=evaluation,
            offer=offer,
            marks={leaf.pk: m for leaf, m in zip(leaves, marks, strict=True)},
        )
    return services.award_decide(acting_user=user, evaluation=evaluation, outcome="awarded", **decision)


def _stored(letter: Letter) -> bytes:
    with default_storage.open(letter.storage_name, "rb") as handle:
        return handle.read()


def test_rejection_and_award_letters_say_what_the_rules_require(
    opened, buyer_agent, company, rivals, latecomer, tmp_path
):
    award = _decided(
        opened,
        buyer_agent,
        documents=["Extrait Kbis de moins de 3 mois", "Attestation URSSAF"],
        documents_deadline="2027-11-30",
    )
    with time_machine.travel(SENT, tick=False):
        sent = services.letters_send(acting_user=buyer_agent, award=award)
    by_company = {letter.company_id: letter for letter in sent}
    assert set(by_company) == {company.pk, rivals[0].pk, rivals[1].pk, latecomer.pk}
    winner = by_company[rivals[1].pk]  # bid 3: 85.60 points
    assert winner.kind == LetterKind.AWARD
    assert {by_company[c.pk].kind for c in (company, rivals[0], latecomer)} == {LetterKind.REJECTION}

    # Standstill: sent on 26 October, 11 days = 27 October … 6 November, signing from 7 November 00:00 Paris
    # (winter time by then: 6 November 23:00 UTC).
    award.refresh_from_db()
    assert award.standstill_ends_at == dt.datetime(2027, 11, 6, 23, 0, tzinfo=dt.UTC)
    assert award.letters_sent_at == SENT

    mine = pdf_text(_stored(by_company[company.pk]), tmp_path)
    for expected in (
        "Lettre de rejet",
        "Commune de Beaune",
        "Menuiserie Bourguignonne",
        "Votre offre est classée n° 2 sur 3 avec 75,00 points sur 100",  # 32 + 28 + 15
        "Bâtiments du Morvan",
        "85,60 points sur 100",
        "Caractéristiques et avantages relatifs",
        "125 000,00 € HT",
        "Méthodologie",
        "Moyens",
        "ne sera pas signé avant le 7 novembre 2027",
        "jusqu'au 6 novembre 2027 inclus",
        "R2182-1",
        "référé précontractuel",
    ):
        assert expected in mine, expected
    late_text = pdf_text(_stored(by_company[latecomer.pk]), tmp_path)
    assert "après la date limite de remise des plis" in late_text and "Bâtiments du Morvan" not in late_text
    award_text = pdf_text(_stored(winner), tmp_path)
    for expected in (
        "votre offre est retenue",
        "85,60 points sur 100",
        "Extrait Kbis de moins de 3 mois",
        "Attestation URSSAF",
        "7 novembre 2027",
    ):
        assert expected in award_text, expected

    for letter in sent:
        assert hashlib.sha256(_stored(letter)).hexdigest() == letter.sha256
        assert services.letter_content(letter).startswith(b"%PDF-")
    with pytest.raises(DomainError):
        services.letters_send(acting_user=buyer_agent, award=award)


def test_mapa_letters_have_no_standstill(buyer, company, rivals, buyer_agent, tmp_path):
    made = opened_consultation(buyer, companies=[company, *rivals], procedure="mapa")
    award = _decided(made, buyer_agent)
    sent = services.letters_send(acting_user=buyer_agent, award=award)
    assert all(letter.standstill_ends_at is None for letter in sent)
    text = pdf_text(_stored(next(letter for letter in sent if letter.kind == LetterKind.REJECTION)), tmp_path)
    assert "délai de suspension" not in text and "Bâtiments du Morvan" in text


def test_configured_standstill_across_the_spring_clock_change(buyer, company, rivals, buyer_agent):
    # 16 days configured (as if not sent electronically); sent Friday 19 March 2027 at 23:30 Paris (22:30 UTC):
    # the 16 days run 20 March … 4 April, past the 28 March change to summer time; signing from 5 April 00:00
    # Paris = 4 April 22:00 UTC.
    made = opened_consultation(buyer, companies=[company, *rivals])
    services.evaluations_ensure(consultation=made.consultation)
    evaluation = selectors.evaluations_of(made.consultation)[0]
    for bid in made.bids:
        services.admission_decide(acting_user=buyer_agent, consultation=made.consultation, bid=bid, decision="admitted")
    services.criteria_set(
        acting_user=buyer_agent, evaluation=evaluation, standstill_days="16", **criteria(price=100, quality=[])
    )
    for row, price in zip(selectors.evaluation_view(evaluation).rows, ["3", "2", "1"], strict=True):
        services.offer_set_price(acting_user=buyer_agent, evaluation=evaluation, offer=row.offer, price=price)
    award = services.award_decide(acting_user=buyer_agent, evaluation=evaluation, outcome="awarded")
    with time_machine.travel(dt.datetime(2027, 3, 19, 22, 30, tzinfo=dt.UTC), tick=False):
        services.letters_send(acting_user=buyer_agent, award=award)
    award.refresh_from_db()
    assert award.standstill_ends_at == dt.datetime(2027, 4, 4, 22, 0, tzinfo=dt.UTC)


def test_unsuccessful_outcome_letters_go_to_every_bidder_with_the_reason(opened, buyer_agent, tmp_path):
    award = _decided(opened, buyer_agent, outcome="unsuccessful", reason="Toutes les offres dépassent le budget")
    sent = services.letters_send(acting_user=buyer_agent, award=award)
    assert len(sent) == 4 and {letter.kind for letter in sent} == {LetterKind.UNSUCCESSFUL}
    text = pdf_text(_stored(sent[0]), tmp_path)
    assert "infructueuse" in text and "Toutes les offres dépassent le budget" in text


def test_proofs_of_sending_and_reading_verify(opened, buyer_agent, company, company_member, company_admin, rivals):
    award = _decided(opened, buyer_agent)
    with time_machine.travel(SENT, tick=False):
        sent = services.letters_send(acting_user=buyer_agent, award=award)
    letter = next(letter for letter in sent if letter.company_id == company.pk)
    with scopes_disabled():
        sending = LetterEvent.objects.get(letter=letter, kind="sent")
    verified = evidence.verify_event(sending)
    assert verified.time == SENT
    assert sending.detail["recipients"] == [] or all("@" in address for address in sending.detail["recipients"])
    payload = evidence.canonical_payload(sending)
    assert payload["sha256"] == letter.sha256 and payload["at"] == "2027-10-26T16:30:00.000000Z"

    # Reading: the first reading of each member is recorded once; the letter keeps the very first.
    with time_machine.travel(SENT + dt.timedelta(days=1), tick=False):
        services.letter_read(acting_user=company_member, letter=letter)
        services.letter_read(acting_user=company_member, letter=letter)
    with time_machine.travel(SENT + dt.timedelta(days=2), tick=False):
        services.letter_read(acting_user=company_admin, letter=letter)
    letter.refresh_from_db()
    assert letter.first_read_at == SENT + dt.timedelta(days=1) and letter.first_read_by == company_member
    with scopes_disabled():
        readings = list(LetterEvent.objects.filter(letter=letter, kind="read").order_by("at"))
    assert [event.detail["user"] for event in readings] == [company_member.pk, company_admin.pk]
    for event in readings:
        evidence.verify_event(event)

    # A changed letter hash (or a changed row) no longer verifies.
    with scopes_disabled():
        Letter.objects.filter(pk=letter.pk).update(sha256="0" * 64)
        tampered = LetterEvent.objects.select_related("letter").get(pk=sending.pk)
    with pytest.raises(tsa.TimestampInvalid):
        evidence.verify_event(tampered)


def test_only_the_recipient_company_reads_its_letter(opened, buyer_agent, company, rivals, rival_member, buyer_admin):
    award = _decided(opened, buyer_agent)
    sent = services.letters_send(acting_user=buyer_agent, award=award)
    letter = next(letter for letter in sent if letter.company_id == company.pk)
    with pytest.raises(NotFound):
        services.letter_read(acting_user=rival_member, letter=letter)
    with pytest.raises(NotFound):
        services.letter_read(acting_user=buyer_admin, letter=letter)
    assert [item.pk for item in selectors.letters_of(company=rivals[0])] != [letter.pk]
    assert selectors.letter_of(company=rivals[0], pk=letter.pk) is None
    letter.refresh_from_db()
    assert letter.first_read_at is None


def test_a_changed_stored_file_is_never_served(opened, buyer_agent):
    award = _decided(opened, buyer_agent)
    letter = services.letters_send(acting_user=buyer_agent, award=award)[0]
    default_storage.delete(letter.storage_name)
    default_storage.save(letter.storage_name, __import__("io").BytesIO(b"%PDF-1.4 forged"))
    with pytest.raises(DomainError, match="empreinte"):
        services.letter_content(letter)


def test_analysis_report_pdf(opened, buyer_agent, second_evaluator, tmp_path):
    award = _decided(opened, buyer_agent)
    text = pdf_text(letters.analysis_report_pdf(opened.consultation, award.evaluation), tmp_path)
    for expected in (
        "Rapport d'analyse des offres",
        "Admise",
        "Méthodologie",
        "85,60",
        "75,00",
        "70,00",
        "Bruno Agent",
        "hors délai",
        "Attribué",
    ):
        assert expected in text, expected
    assert D("85.60") == award.winner_total
