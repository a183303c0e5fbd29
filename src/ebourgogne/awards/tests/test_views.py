"""The award pages and a company's letters over HTTP: who sees what (another buyer and another company
get 404), bad input answered with a clear message and the input kept, the reading recorded and shown."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape
from django_scopes import scopes_disabled

from ebourgogne.awards import selectors, services
from ebourgogne.awards.models import Criterion, LetterEvent, Score
from ebourgogne.testing.awards import criteria, opened_consultation
from ebourgogne.testing.factories import sign_in

pytestmark = pytest.mark.django_db


def _evaluation(opened):
    services.evaluations_ensure(consultation=opened.consultation)
    return selectors.evaluations_of(opened.consultation)[0]


def _sent(opened, user):
    evaluation = _evaluation(opened)
    for bid in opened.bids:
        services.admission_decide(acting_user=user, consultation=opened.consultation, bid=bid, decision="admitted")
    services.criteria_set(acting_user=user, evaluation=evaluation, **criteria(price=100, quality=[]))
    for row, price in zip(selectors.evaluation_view(evaluation).rows, ["300", "200", "100"], strict=True):
        services.offer_set_price(acting_user=user, evaluation=evaluation, offer=row.offer, price=price)
    award = services.award_decide(acting_user=user, evaluation=evaluation, outcome="awarded")
    return services.letters_send(acting_user=user, award=award)


def test_buyer_pages_and_strangers(
    client, opened, buyer, buyer_agent, commission_member, outsider, other_buyer, company_member
):
    url = reverse("awards:overview", args=[buyer.slug, opened.consultation.pk])
    sign_in(client, buyer_agent)
    page = client.get(url)
    assert page.status_code == 200
    assert "Menuiserie Bourguignonne" in page.content.decode() and "hors délai" in page.content.decode()
    evaluation = _evaluation(opened)
    assert (
        client.get(reverse("awards:evaluation", args=[buyer.slug, opened.consultation.pk, evaluation.pk])).status_code
        == 200
    )
    # Commission members read (and mark), without the forms of the managers.
    sign_in(client, commission_member)
    page = client.get(url)
    assert page.status_code == 200 and "Enregistrer<span" not in page.content.decode()
    # Another buyer: 404 on our consultation, also under its own slug.
    sign_in(client, outsider)
    assert client.get(url).status_code == 404
    assert client.get(reverse("awards:overview", args=[other_buyer.slug, opened.consultation.pk])).status_code == 404
    sign_in(client, company_member)
    assert client.get(url).status_code == 404


def test_no_award_page_before_the_opening(client, buyer, buyer_agent):
    from ebourgogne.testing.factories import ConsultationFactory

    consultation = ConsultationFactory(organisation=buyer, published=True)
    sign_in(client, buyer_agent)
    assert client.get(reverse("awards:overview", args=[buyer.slug, consultation.pk])).status_code == 404


def test_bad_weights_give_a_clear_message_and_keep_the_input(client, opened, buyer, buyer_agent):
    evaluation = _evaluation(opened)
    sign_in(client, buyer_agent)
    url = reverse("awards:criteria", args=[buyer.slug, opened.consultation.pk, evaluation.pk])
    answer = client.post(
        url,
        {
            "scale_max": "20",
            "price_weight": "30",
            "quality": "Valeur technique ; 60\n- Méthode ; 60",
            "low_ratio": "0,8",
        },
    )
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "totalisent 90 points" in text
    assert "- Méthode ; 60" in text
    with scopes_disabled():
        assert not Criterion.objects.exists()
    answer = client.post(
        url,
        {
            "scale_max": "20",
            "price_weight": "40",
            "quality": "Valeur technique ; 60\n- Méthode ; 35\n- Moyens ; 25",
            "low_ratio": "0,8",
        },
    )
    assert answer.status_code == 302


def test_a_mark_out_of_the_scale_is_refused_and_kept(client, opened, buyer, buyer_agent):
    evaluation = _evaluation(opened)
    for bid in opened.bids:
        services.admission_decide(
            acting_user=buyer_agent, consultation=opened.consultation, bid=bid, decision="admitted"
        )
    services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria())
    leaves = [leaf for leaf in selectors.leaves_of(selectors.criteria_tree(evaluation)) if leaf.kind == "quality"]
    offer = selectors.evaluation_view(evaluation).rows[0].offer
    sign_in(client, buyer_agent)
    url = reverse("awards:scores", args=[buyer.slug, opened.consultation.pk, evaluation.pk, offer.pk])
    answer = client.post(url, {f"mark_{leaves[0].pk}": "25", f"mark_{leaves[1].pk}": "12"})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert "doit être un nombre de 0 à 20" in text and 'value="25"' in text
    with scopes_disabled():
        assert not Score.objects.exists()
    answer = client.post(
        reverse("awards:price", args=[buyer.slug, opened.consultation.pk, evaluation.pk, offer.pk]), {"price": "cher"}
    )
    assert answer.status_code == 400 and "montant positif" in answer.content.decode()


def test_award_to_a_late_bid_is_refused_over_http(client, opened, buyer, buyer_agent):
    evaluation = _evaluation(opened)
    for bid in opened.bids:
        services.admission_decide(
            acting_user=buyer_agent, consultation=opened.consultation, bid=bid, decision="admitted"
        )
    sign_in(client, buyer_agent)
    answer = client.post(
        reverse("awards:admission", args=[buyer.slug, opened.consultation.pk, opened.late[0].pk]),
        {"decision": "admitted"},
    )
    assert answer.status_code == 400 and "hors délai" in answer.content.decode()
    answer = client.post(
        reverse("awards:decide", args=[buyer.slug, opened.consultation.pk, evaluation.pk]),
        {"outcome": "awarded", "winner": str(opened.late[0].pk)},
    )
    assert answer.status_code == 400  # not among the ranked offers: the form refuses it


def test_company_letters_read_download_and_isolation(
    client, opened, buyer, buyer_agent, company, company_member, rivals, rival_member
):
    sent = _sent(opened, buyer_agent)
    mine = next(letter for letter in sent if letter.company_id == company.pk)
    theirs = next(letter for letter in sent if letter.company_id == rivals[0].pk)
    sign_in(client, company_member)
    listing = client.get(reverse("awards_company:list", args=[company.slug]))
    assert listing.status_code == 200
    assert escape(mine.subject) in listing.content.decode()
    assert f"/courriers/{mine.pk}/" in listing.content.decode()
    assert f"/courriers/{theirs.pk}/" not in listing.content.decode()
    # Another company's letter under our slug, and our letter under theirs: 404.
    assert client.get(reverse("awards_company:letter", args=[company.slug, theirs.pk])).status_code == 404
    assert client.get(reverse("awards_company:letter", args=[rivals[0].slug, theirs.pk])).status_code == 404
    page = client.get(reverse("awards_company:letter", args=[company.slug, mine.pk]))
    assert page.status_code == 200 and mine.sha256 in page.content.decode()
    pdf = client.get(reverse("awards_company:letter_pdf", args=[company.slug, mine.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF-")
    with scopes_disabled():
        assert LetterEvent.objects.filter(letter=mine, kind="read").count() == 1
        assert not LetterEvent.objects.filter(letter=theirs, kind="read").exists()
    # The buyer sees the first reading.
    sign_in(client, buyer_agent)
    evaluation = selectors.evaluations_of(opened.consultation)[0]
    page = client.get(
        reverse("awards:evaluation", args=[buyer.slug, opened.consultation.pk, evaluation.pk])
    ).content.decode()
    assert "Emma Employée" in page and "pas encore lu" in page
    buyer_pdf = client.get(reverse("awards:letter_pdf", args=[buyer.slug, opened.consultation.pk, theirs.pk]))
    assert buyer_pdf.status_code == 200
    # A buyer has no letters page.
    assert client.get(reverse("awards_company:list", args=[buyer.slug])).status_code in (403, 404)


def test_report_pdf_for_commission_members(client, opened, buyer, buyer_agent, commission_member):
    _sent(opened, buyer_agent)
    evaluation = selectors.evaluations_of(opened.consultation)[0]
    sign_in(client, commission_member)
    answer = client.get(reverse("awards:report", args=[buyer.slug, opened.consultation.pk, evaluation.pk]))
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF-")


def test_public_outcome_include(client, buyer, buyer_agent, company, rivals):
    from django.template import Context, Template

    made = opened_consultation(buyer, companies=[company, *rivals])
    _sent(made, buyer_agent)
    made.consultation.refresh_from_db()
    html = Template("{% load awards_ui %}{% award_outcomes consultation %}").render(
        Context({"consultation": made.consultation})
    )
    assert "Issue de la procédure" in html and "Attribué" in html and "Bâtiments du Morvan" in html


def test_api_ranking_and_letters(client, opened, buyer, buyer_agent, company, company_member, outsider):
    sent = _sent(opened, buyer_agent)
    sign_in(client, buyer_agent)
    answer = client.get(f"/api/v1/awards/{buyer.slug}/consultations/{opened.consultation.pk}/ranking")
    assert answer.status_code == 200
    [evaluation] = answer.json()
    assert evaluation["outcome"] == "awarded" and evaluation["winner"] == "Bâtiments du Morvan"
    assert [(row["rank"], row["total"]) for row in evaluation["ranking"]] == [(1, "100.00"), (2, "50.00"), (3, "33.33")]
    sign_in(client, outsider)
    assert client.get(f"/api/v1/awards/{buyer.slug}/consultations/{opened.consultation.pk}/ranking").status_code == 404
    sign_in(client, company_member)
    letters = client.get(f"/api/v1/awards/{company.slug}/letters").json()
    assert [item["id"] for item in letters] == [next(letter.pk for letter in sent if letter.company_id == company.pk)]


def test_the_public_page_names_the_winner_once_the_letters_are_sent_even_from_its_kept_copy(
    client, buyer, buyer_agent, company, rivals
):
    """The anonymous copy of the public page (core.pagecache) is kept under the consultation's stamp:
    sending the letters changes the stamp, so the winner appears at once for everyone."""
    made = opened_consultation(buyer, companies=[company, *rivals])
    evaluation = _evaluation(made)
    for bid in made.bids:
        services.admission_decide(acting_user=buyer_agent, consultation=made.consultation, bid=bid, decision="admitted")
    services.criteria_set(acting_user=buyer_agent, evaluation=evaluation, **criteria(price=100, quality=[]))
    for row, price in zip(selectors.evaluation_view(evaluation).rows, ["300", "200", "100"], strict=True):
        services.offer_set_price(acting_user=buyer_agent, evaluation=evaluation, offer=row.offer, price=price)
    award = services.award_decide(acting_user=buyer_agent, evaluation=evaluation, outcome="awarded")
    url = reverse("consultations_public:detail", args=[made.consultation.pk])
    before = client.get(url).content.decode()
    assert "Issue de la procédure" in before and "Attribué" in before
    assert "attributaire :" not in before  # the bidders learn the winner's name first, by letter
    services.letters_send(acting_user=buyer_agent, award=award)
    after = client.get(url).content.decode()
    assert "attributaire : Bâtiments du Morvan" in after
