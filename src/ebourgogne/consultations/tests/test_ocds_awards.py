"""OCDS 1.1 award and contract stages: every package is valid against the OCDS 1.1.5 release package schema
(offline, consultations/schemas/ocds) and says what is public, nothing more: the outcome once every lot
is decided, the winner and its price once the letters are sent, contracts once notified, with their
notified modifications; never a rival's price or name, never the practice consultation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.test import Client
from django_scopes import scopes_disabled

from ebourgogne.awards.models import Award, Evaluation, Offer, Outcome
from ebourgogne.consultations.models import Consultation
from ebourgogne.consultations.ocds import release_package
from ebourgogne.consultations.ocds_awards import _add_months, outcome_changed_since
from ebourgogne.consultations.tests.ocds_schema import validation_errors
from ebourgogne.contracts.models import Contract, ContractDocument, DocumentKind, Modification
from ebourgogne.core import clock
from ebourgogne.testing.awards import opened_consultation
from ebourgogne.testing.contracts import awarded, contract
from ebourgogne.testing.factories import CompanyFactory, ConsultationFactory

pytestmark = pytest.mark.django_db


def ocds(client: Client, consultation) -> dict:
    response = client.get(f"/api/v1/consultations/{consultation.pk}/ocds")
    assert response.status_code == 200, response.content
    package = response.json()
    assert validation_errors(package) == []
    return package["releases"][0]


def decided(consultation, state: str = "awarded", reason: str = "") -> None:
    """Record the consultation's outcome (what awards.services does once every lot is decided)."""
    with scopes_disabled():
        Consultation.objects.filter(pk=consultation.pk).update(state=state, end_reason=reason)


@pytest.fixture
def rival(db):
    return CompanyFactory(name="Bâtiments Concurrents", slug="batiments-concurrents")


def test_no_award_before_the_outcome_is_recorded(client, buyer, company, rival):
    award = awarded(buyer, company, rivals=[rival])  # decided, but the consultation's outcome is not recorded
    release = ocds(client, award.evaluation.consultation)
    assert release["tag"] == ["tender"] and "awards" not in release and "contracts" not in release
    assert [party["roles"] for party in release["parties"]] == [["buyer", "procuringEntity"]]
    assert release["id"].startswith(f"ocds-ebourg-{award.evaluation.consultation_id}-tender-")
    published = ConsultationFactory(organisation=buyer, published=True)
    assert "awards" not in ocds(client, published)


def test_an_award_whose_letters_are_not_sent_is_pending_and_names_nobody(client, buyer, company, rival):
    award = awarded(buyer, company, rivals=[rival])
    with scopes_disabled():
        Award.objects.filter(pk=award.pk).update(letters_sent_at=None, standstill_ends_at=None)
    decided(award.evaluation.consultation)
    release = ocds(client, award.evaluation.consultation)
    assert release["tag"] == ["tender", "award"]
    (item,) = release["awards"]
    assert item["id"] == f"attribution-{award.pk}" and item["status"] == "pending"
    assert "suppliers" not in item and "value" not in item
    assert item["description"] == "Attribué : Offre économiquement la plus avantageuse"
    assert [party["roles"] for party in release["parties"]] == [["buyer", "procuringEntity"]]
    assert company.name not in str(release) and "120000" not in str(release)


def test_an_award_whose_letters_are_sent_names_the_winner_and_its_price_only(client, buyer, company, rival):
    award = awarded(buyer, company, rivals=[rival], price=Decimal("98765.40"))
    decided(award.evaluation.consultation)
    release = ocds(client, award.evaluation.consultation)
    assert release["tag"] == ["tender", "award"]
    assert release["id"].startswith(f"ocds-ebourg-{award.evaluation.consultation_id}-award-")
    (item,) = release["awards"]
    supplier = {"id": f"FR-RCS-{company.siret}", "name": company.name}
    assert item["status"] == "active" and item["suppliers"] == [supplier]
    assert item["value"] == {"amount": 98765.4, "currency": "EUR"}
    assert item["date"] == award.decided_at.astimezone(clock.PARIS).isoformat()
    notice = item["documents"][0]
    assert notice["documentType"] == "awardNotice" and notice["url"].endswith(
        f"/consultations/{award.evaluation.consultation_id}/"
    )
    party = release["parties"][1]
    assert party["roles"] == ["supplier"] and party["id"] == supplier["id"]
    assert party["identifier"] == {"scheme": "FR-RCS", "id": company.siret, "legalName": company.name}
    assert release["tender"]["status"] == "complete"
    # The rival (second offer, 99 765,40 €) is nowhere: neither its name, nor its SIRET, nor its price.
    text = str(release)
    assert rival.name not in text and rival.siret not in text and "99765.4" not in text
    assert "winner_total" not in text and "18.5" not in text  # nor the winner's mark


@pytest.mark.parametrize(
    ("outcome", "state", "status", "tender_status"),
    [
        ("unsuccessful", "unsuccessful", "unsuccessful", "unsuccessful"),
        ("abandoned", "abandoned", "cancelled", "cancelled"),
    ],
)
def test_an_unsuccessful_or_abandoned_consultation(
    client, buyer, company, rival, outcome, state, status, tender_status
):
    award = awarded(buyer, company, rivals=[rival])
    with scopes_disabled():
        Award.objects.filter(pk=award.pk).update(
            outcome=outcome, winner=None, winner_total=None, reason="Offres inacceptables"
        )
    decided(award.evaluation.consultation, state, reason="Offres inacceptables")
    release = ocds(client, award.evaluation.consultation)
    assert release["tag"] == ["tender", "award"]
    (item,) = release["awards"]
    assert item["status"] == status and "suppliers" not in item and "value" not in item
    assert item["description"].endswith(": Offres inacceptables")
    assert release["tender"]["status"] == tender_status
    assert company.name not in str(release)


def test_lots_one_awarded_one_unsuccessful(client, buyer, company, rival):
    opened = opened_consultation(buyer, companies=[company, rival], lots=2)
    now = clock.now()
    with scopes_disabled():
        awards = []
        for lot, winner_index in zip(opened.lots, (1, None), strict=True):
            evaluation = Evaluation.objects.create(consultation=opened.consultation, lot=lot, criteria_set_at=now)
            offers = [
                Offer.objects.create(evaluation=evaluation, bid=bid, price=Decimal(60000 + 1000 * index))
                for index, bid in enumerate(opened.bids)
            ]
            awards.append(
                Award.objects.create(
                    evaluation=evaluation,
                    outcome=Outcome.AWARDED if winner_index is not None else Outcome.UNSUCCESSFUL,
                    winner=offers[winner_index] if winner_index is not None else None,
                    reason="Meilleure offre" if winner_index is not None else "Aucune offre acceptable",
                    decided_at=now - dt.timedelta(days=2),
                    letters_sent_at=now - dt.timedelta(days=1),
                )
            )
    decided(opened.consultation)
    release = ocds(client, opened.consultation)
    assert [(item["id"], item["relatedLots"], item["status"]) for item in release["awards"]] == [
        (f"attribution-{awards[0].pk}", ["1"], "active"),
        (f"attribution-{awards[1].pk}", ["2"], "unsuccessful"),
    ]
    assert release["awards"][0]["suppliers"] == [{"id": f"FR-RCS-{rival.siret}", "name": rival.name}]
    assert release["awards"][0]["value"] == {"amount": 61000.0, "currency": "EUR"}
    assert release["awards"][0]["title"].startswith("Lot 1 : ")
    assert [lot["status"] for lot in release["tender"]["lots"]] == ["complete", "unsuccessful"]
    assert company.name not in str(release) and "60000" not in str(release)  # the losing bid of lot 1
    assert "contracts" not in release
    # Lot 1's contract is notified: it refers to lot 1's award; lot 2 (unsuccessful) has none.
    with scopes_disabled():
        Contract.objects.create(
            organisation=buyer,
            consultation=opened.consultation,
            lot=opened.lots[0],
            award=awards[0],
            holder=rival,
            bid=opened.bids[1],
            number="2026-L1",
            title="Lot 1",
            object="Lot 1 du marché",
            contract_type="works",
            procedure="open",
            cpv_code="45000000",
            amount=Decimal("61000"),
            duration_months=6,
            state="notified",
            created_at=now,
            signed_at=now,
            notified_at=now,
            starts_on=clock.today_local(),
        )
    release = ocds(client, opened.consultation)
    assert [(item["id"], item["awardID"]) for item in release["contracts"]] == [
        ("2026-L1", f"attribution-{awards[0].pk}")
    ]
    assert release["tag"] == ["tender", "award", "contract"]


@pytest.mark.parametrize("state", ["preparing", "signed"])
def test_a_contract_not_yet_notified_is_not_published(client, buyer, company, state):
    made = contract(buyer, company, state=state)
    decided(made.consultation)
    release = ocds(client, made.consultation)
    assert "contracts" not in release and release["tag"] == ["tender", "award"]
    assert release["awards"][0]["status"] == "active"


def signed_engagement(made) -> ContractDocument:
    with scopes_disabled():
        return ContractDocument.objects.create(
            contract=made,
            kind=DocumentKind.CONTRACT,
            title="AE marché 2026-001 (brouillon interne)",
            filename="ae.pdf",
            storage_name="contracts/x/ae.pdf",
            original_sha256="a" * 64,
            sha256="b" * 64,
            size=1234,
            created_at=made.created_at,
            buyer_signed_at=made.signed_at,
            holder_signed_at=made.signed_at,
            notified_at=made.notified_at,
        )


def test_a_notified_contract(client, buyer, company):
    made = contract(buyer, company, state="notified", amount=Decimal("150000"), duration_months=12)
    document = signed_engagement(made)
    decided(made.consultation)
    release = ocds(client, made.consultation)
    assert release["tag"] == ["tender", "award", "contract"]
    assert release["id"].startswith(f"ocds-ebourg-{made.consultation_id}-contract-")
    (item,) = release["contracts"]
    assert item["id"] == "2026-001" and item["awardID"] == release["awards"][0]["id"] == f"attribution-{made.award_id}"
    assert item["status"] == "active" and item["value"] == {"amount": 150000.0, "currency": "EUR"}
    start = made.starts_on
    assert item["period"]["startDate"] == f"{start.isoformat()}T00:00:00{item['period']['startDate'][19:]}"
    end = dt.date(start.year + 1, start.month, start.day) - dt.timedelta(days=1)
    assert item["period"]["endDate"].startswith(f"{end.isoformat()}T23:59:59")
    assert item["dateSigned"] == made.signed_at.astimezone(clock.PARIS).isoformat()
    assert item["documents"] == [
        {
            "id": f"acte-engagement-{document.pk}",
            "documentType": "contractSigned",
            "title": "Acte d'engagement signé",
            "description": "Signé électroniquement par l'acheteur et le titulaire ; non publié en ligne.",
            "format": "application/pdf",
            "language": "fr",
            "datePublished": made.notified_at.astimezone(clock.PARIS).isoformat(),
        }
    ]
    assert "amendments" not in item and "storage_name" not in str(release) and "brouillon" not in str(release)


@time_machine.travel(dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC), tick=False)
def test_a_contract_with_two_modifications(client, buyer, company):
    made = contract(buyer, company, state="notified", amount=Decimal("100000"), duration_months=12)
    assert made.starts_on == dt.date(2026, 11, 10)
    decided(made.consultation)
    before = ocds(client, made.consultation)
    now = clock.now()
    with time_machine.travel(now + dt.timedelta(days=2), tick=False):
        with scopes_disabled():
            for number, (ground, amount, months, state) in enumerate(
                [
                    ("R2194-2", Decimal("12000"), 0, "notified"),
                    ("R2194-8", Decimal("-2500.50"), 3, "notified"),
                    ("R2194-7", Decimal("99999"), 6, "draft"),  # not notified: not published
                ],
                start=1,
            ):
                Modification.objects.create(
                    contract=made,
                    number=number,
                    legal_ground=ground,
                    object=f"Objet de la modification {number}",
                    amount_change=amount,
                    duration_change_months=months,
                    effective_on=made.starts_on + dt.timedelta(days=number),
                    state=state,
                    created_at=clock.now(),
                    notified_at=clock.now() if state == "notified" else None,
                )
        release = ocds(client, made.consultation)
    assert release["tag"] == ["tender", "award", "contract", "contractAmendment"]
    (item,) = release["contracts"]
    assert item["value"] == {"amount": 109499.5, "currency": "EUR"}
    assert [(amendment["id"], amendment["rationale"]) for amendment in item["amendments"]] == [
        ("modification-1", "Objet de la modification 1"),
        ("modification-2", "Objet de la modification 2"),
    ]
    assert item["amendments"][1]["description"] == (
        "Modification n° 2 — Modification de faible montant (R2194-8) ; montant : -2 500,50 € HT ; "
        "durée : +3 mois ; prend effet le 12/11/2026"
    )
    assert "Prestations supplémentaires nécessaires (R2194-2)" in item["amendments"][0]["description"]
    # 12 months + 3 notified (the draft's 6 do not count): from 10/11/2026 to 09/02/2028 included.
    assert before["contracts"][0]["period"] == {
        "startDate": "2026-11-10T00:00:00+01:00",
        "endDate": "2027-11-09T23:59:59+01:00",
    }
    assert item["period"] == {"startDate": "2026-11-10T00:00:00+01:00", "endDate": "2028-02-09T23:59:59+01:00"}
    assert "99999" not in str(release) and "modification-3" not in str(release)
    # The release changed: a new id and date (the latest notification), a later package date.
    assert release["id"] != before["id"] and release["date"] > before["date"]
    assert release["date"] == item["amendments"][1]["date"]


def test_an_ended_and_a_terminated_contract(client, buyer, company, rival):
    ended = contract(buyer, company, state="ended", number="2026-010")
    terminated = contract(buyer, rival, state="terminated", number="2026-011", end_reason="Faute grave du titulaire")
    for made in (ended, terminated):
        decided(made.consultation)
    first, second = ocds(client, ended.consultation), ocds(client, terminated.consultation)
    for release, made in ((first, ended), (second, terminated)):
        assert release["tag"] == ["tender", "award", "contract", "contractTermination"]
        (item,) = release["contracts"]
        assert item["status"] == "terminated"
        assert item["period"]["endDate"] == made.ended_at.astimezone(clock.PARIS).isoformat()
    assert "Exécution terminée le" in first["contracts"][0]["description"]
    assert "Marché résilié le" in second["contracts"][0]["description"]
    assert "Faute grave" not in str(second)  # the reason of a termination is not published


def test_the_practice_consultation_has_no_award_stage(client, buyer, company):
    made = contract(buyer, company, state="notified")
    decided(made.consultation)
    with scopes_disabled():
        Consultation.objects.filter(pk=made.consultation_id).update(is_practice=True)
        consultation = Consultation.objects.select_related("organisation").get(pk=made.consultation_id)
        package = release_package([consultation], uri="https://exemple.test/p")
    assert validation_errors(package) == []
    release = package["releases"][0]
    assert "awards" not in release and "contracts" not in release and release["tag"] == ["tender"]
    assert client.get(f"/api/v1/consultations/{made.consultation_id}/ocds").status_code == 404


def test_a_package_of_decided_consultations_costs_a_few_queries(
    client, buyer, company, rival, django_assert_max_num_queries, django_assert_num_queries
):
    made = []
    for index in range(6):
        holder = company if index % 2 else rival
        item = contract(buyer, holder, state="ended" if index == 5 else "notified", number=f"2026-1{index:02d}")
        signed_engagement(item)
        with scopes_disabled():
            Modification.objects.create(
                contract=item,
                number=1,
                legal_ground="R2194-7",
                object="Avenant",
                amount_change=Decimal("1000"),
                effective_on=item.starts_on,
                state="notified",
                created_at=clock.now(),
                notified_at=clock.now(),
            )
        decided(item.consultation)
        made.append(item)
    with scopes_disabled():
        consultations = list(
            Consultation.objects.filter(pk__in=[item.consultation_id for item in made]).select_related("organisation")
        )
        # 5 for the tender stage, 1 for the awards and their contracts, 1 modifications, 1 actes d'engagement.
        with django_assert_num_queries(8):
            package = release_package(consultations, uri="https://exemple.test/p")
    assert validation_errors(package) == []
    assert all(len(release["contracts"][0]["amendments"]) == 1 for release in package["releases"])
    assert all(release["contracts"][0]["documents"] for release in package["releases"])
    with django_assert_max_num_queries(10):
        response = client.get("/api/v1/consultations/ocds", {"limit": 20})
    package = response.json()
    assert len(package["releases"]) == 6 and validation_errors(package) == []
    assert [release["contracts"][0]["id"] for release in package["releases"]] == [
        f"2026-1{index:02d}" for index in range(6)
    ]


def test_adding_months_keeps_the_day_or_takes_the_last_of_the_month():
    assert _add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert _add_months(dt.date(2027, 12, 15), 3) == dt.date(2028, 3, 15)
    assert _add_months(dt.date(2028, 3, 31), -1) == dt.date(2028, 2, 29)


def test_a_new_contract_stage_is_seen_by_a_since_filter(buyer, company, rival):
    """`outcome_changed_since` finds a consultation whose contract or modification was notified since."""
    quiet = contract(buyer, rival, state="notified", number="2026-020", notified_days_ago=30)
    busy = contract(buyer, company, state="preparing", number="2026-021")
    for made in (quiet, busy):
        decided(made.consultation)
    with scopes_disabled():
        Award.objects.update(decided_at=clock.now() - dt.timedelta(days=60), letters_sent_at=None)
        since = clock.now() - dt.timedelta(days=5)

        def changed() -> set[int]:
            return set(Consultation.objects.filter(outcome_changed_since(since)).values_list("pk", flat=True))

        assert changed() == set()  # a contract being prepared is not published: no change
        type(busy).objects.filter(pk=busy.pk).update(
            state="notified", notified_at=clock.now(), starts_on=clock.today_local()
        )
        assert changed() == {busy.consultation_id}
        Modification.objects.create(
            contract=quiet,
            number=1,
            legal_ground="R2194-7",
            object="Avenant",
            effective_on=clock.today_local(),
            state="notified",
            created_at=clock.now(),
            notified_at=clock.now(),
        )
        assert changed() == {busy.consultation_id, quiet.consultation_id}
        Consultation.objects.filter(pk=quiet.consultation_id).update(is_practice=True)
        assert changed() == {busy.consultation_id}
