"""Questions pages: the public block (anonymous, company member), asking through the form, the buyer's
pages (list, answer, information), bad input and cross-tenant access."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.template import Context, RequestContext, Template
from django.test import RequestFactory
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from ebourgogne.organisations.roles import Role
from ebourgogne.questions import services
from ebourgogne.questions.models import Kind, Question
from ebourgogne.testing.factories import CompanyFactory, ConsultationFactory, make_member, sign_in

pytestmark = pytest.mark.django_db

UTC = dt.UTC
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def consultation(buyer):
    return ConsultationFactory(
        organisation=buyer,
        published=True,
        title="Rénovation de l'école Jules Ferry",
        questions_deadline=NOW + dt.timedelta(days=10),
        bids_deadline=NOW + dt.timedelta(days=20),
    )


def ask_url(consultation):
    return reverse("questions_public:ask", args=[consultation.pk])


def public_url(consultation):
    return reverse("questions_public:list", args=[consultation.pk])


def buyer_list_url(consultation):
    return reverse("questions_buyer:list", args=[consultation.organisation.slug, consultation.pk])


def answer_url(question):
    consultation = question.consultation
    return reverse("questions_buyer:answer", args=[consultation.organisation.slug, consultation.pk, question.pk])


def questions_of(consultation):
    with scopes_disabled():
        return list(Question.objects.filter(consultation=consultation).order_by("number"))


def answered(consultation, company, member, agent, text="Question ?", answer="Réponse."):
    question = services.question_ask(acting_user=member, company=company, consultation=consultation, text=text)
    return services.question_answer(acting_user=agent, question=question, answer=answer)


# --- Public page ------------------------------------------------------------------------------------


def test_anonymous_visitors_read_published_answers_without_the_askers_identity(
    client, consultation, company, company_member, buyer_agent
):
    answered(consultation, company, company_member, buyer_agent, "La dépose est-elle comprise ?", "Oui, au lot 2.")
    services.question_ask(
        acting_user=company_member, company=company, consultation=consultation, text="Question encore privée"
    )
    response = client.get(public_url(consultation))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Question n° 1" in page and "La dépose est-elle comprise ?" in page and "Oui, au lot 2." in page
    assert "Question encore privée" not in page
    for identity in (company.name, company_member.full_name, company_member.email):
        assert identity not in page
    assert "Connectez-vous pour poser une question" in page
    assert f"?next={ask_url(consultation).replace('/', '%2F')}" in page


def test_a_company_member_sees_the_form_and_own_questions_never_a_rivals_unanswered_one(
    client, consultation, company, company_member, company_admin
):
    rival = CompanyFactory(name="Charpentes Rivales")
    rival_member = make_member(rival, Role.COMPANY_MEMBER)
    services.question_ask(acting_user=company_admin, company=company, consultation=consultation, text="Notre question")
    services.question_ask(acting_user=rival_member, company=rival, consultation=consultation, text="Question du rival")
    page = sign_in(client, company_member).get(public_url(consultation)).content.decode()
    assert "Les questions de votre entreprise" in page and "Notre question" in page
    assert "en attente de réponse" in page
    assert "Question du rival" not in page and "Charpentes Rivales" not in page
    assert 'name="text"' in page and "Envoyer la question" in page


def test_after_the_questions_deadline_the_page_says_so(client, frozen, consultation, company_member):
    frozen.move_to(consultation.questions_deadline)
    page = sign_in(client, company_member).get(public_url(consultation)).content.decode()
    assert "La date limite des questions est passée" in page and 'name="text"' not in page


def test_a_signed_in_person_without_company_is_told_how_to_ask(client, consultation, buyer_agent):
    page = sign_in(client, buyer_agent).get(public_url(consultation)).content.decode()
    assert "rattaché à une entreprise" in page and 'name="text"' not in page


def test_drafts_have_no_public_questions(client, buyer, company_member, company):
    draft = ConsultationFactory(organisation=buyer)
    assert client.get(public_url(draft)).status_code == 404
    sign_in(client, company_member)
    assert client.get(ask_url(draft)).status_code == 404
    response = client.post(ask_url(draft), {"company": company.slug, "text": "Question ?"})
    assert response.status_code == 404 and questions_of(draft) == []


def test_the_inclusion_tag_reads_the_request_from_the_context(rf: RequestFactory, consultation, company_member):
    from django.contrib.auth.models import AnonymousUser

    template = Template("{% load questions_public %}{% questions_public_block consultation %}")
    request = rf.get("/")
    request.user = AnonymousUser()
    html = template.render(RequestContext(request, {"consultation": consultation}))
    assert 'id="questions"' in html and "Connectez-vous pour poser une question" in html
    request.user = company_member
    html = template.render(RequestContext(request, {"consultation": consultation}))
    assert "Envoyer la question" in html and 'name="csrfmiddlewaretoken"' in html
    # Without a request at all (e.g. rendered in a task) it shows the answers and the sign-in link.
    assert "Connectez-vous" in Template(template.source).render(Context({"consultation": consultation}))


# --- Asking through the form -----------------------------------------------------------------------


def test_asking_through_the_form(client, consultation, company, company_member):
    response = sign_in(client, company_member).post(
        ask_url(consultation), {"company": company.slug, "text": "Une visite est-elle prévue ?"}
    )
    assert response.status_code == 302
    [question] = questions_of(consultation)
    assert question.text == "Une visite est-elle prévue ?" and question.asker_organisation == company
    assert response["Location"].startswith(f"/consultations/{consultation.pk}/")
    page = client.get(public_url(consultation)).content.decode()  # the message shows on the next page
    assert "Votre question n° 1 est transmise" in page


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Écrivez votre question."),
        ("x" * (services.QUESTION_MAX_LENGTH + 1), "5000"),
        ("a\x00b", "caractère nul"),
    ],
    ids=["empty", "oversized", "nul"],
)
def test_bad_questions_get_a_clear_message(client, consultation, company, company_member, text, message):
    response = sign_in(client, company_member).post(ask_url(consultation), {"company": company.slug, "text": text})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert questions_of(consultation) == []


def test_a_question_after_the_deadline_is_refused_with_a_clear_message(
    client, frozen, consultation, company, company_member
):
    page = sign_in(client, company_member).get(ask_url(consultation)).content.decode()
    frozen.move_to(consultation.questions_deadline + dt.timedelta(seconds=1))
    sign_in(client, company_member)  # ten days later: a fresh session
    response = client.post(ask_url(consultation), {"company": company.slug, "text": "Trop tard ?"})
    assert 'name="text"' in page
    assert response.status_code == 400
    assert "La date limite des questions est passée" in response.content.decode()
    assert questions_of(consultation) == []


@pytest.mark.parametrize("state", ["closed", "cancelled"])
def test_no_question_on_a_closed_or_cancelled_consultation(client, buyer, company, company_member, state):
    ended = ConsultationFactory(organisation=buyer, published=True, state=state)
    sign_in(client, company_member)
    assert "plus en cours" in client.get(ask_url(ended)).content.decode()
    response = client.post(ask_url(ended), {"company": company.slug, "text": "Encore ouverte ?"})
    assert response.status_code == 400 and "elle ne reçoit plus de questions" in response.content.decode()
    assert questions_of(ended) == []


def test_a_person_in_two_companies_chooses_which_one_asks(client, consultation, company, company_member):
    second = CompanyFactory(name="Bois et Charpentes")
    make_member(second, Role.COMPANY_ADMIN, company_member)
    sign_in(client, company_member)
    page = client.get(ask_url(consultation)).content.decode()
    assert "Au nom de l&#x27;entreprise" in page and "Bois et Charpentes" in page
    response = client.post(ask_url(consultation), {"text": "Sans entreprise choisie"})
    assert response.status_code == 400 and "Choisissez une de vos entreprises." in response.content.decode()
    assert client.post(ask_url(consultation), {"company": second.slug, "text": "Pour la 2e"}).status_code == 302
    assert [question.asker_organisation for question in questions_of(consultation)] == [second]


def test_asking_in_the_name_of_a_company_one_is_not_in_is_not_found(client, consultation, company_member):
    stranger = CompanyFactory()
    response = sign_in(client, company_member).post(ask_url(consultation), {"company": stranger.slug, "text": "Q ?"})
    assert response.status_code == 404 and questions_of(consultation) == []


# --- Buyer pages ------------------------------------------------------------------------------------


def test_the_buyers_list_shows_unanswered_questions_first_with_the_asker(
    client, consultation, company, company_member, buyer_agent
):
    answered(consultation, company, company_member, buyer_agent, "Première question", "Réponse 1")
    services.question_ask(acting_user=company_member, company=company, consultation=consultation, text="Deuxième")
    page = sign_in(client, buyer_agent).get(buyer_list_url(consultation)).content.decode()
    assert page.index("Deuxième") < page.index("Première question")
    assert company.name in page and company_member.full_name in page
    assert "1 question en attente de réponse" in page


def test_the_buyer_answers_through_the_form(client, consultation, company, company_member, buyer_agent):
    question = services.question_ask(
        acting_user=company_member, company=company, consultation=consultation, text="Visite ?"
    )
    sign_in(client, buyer_agent)
    assert client.get(answer_url(question)).status_code == 200
    response = client.post(answer_url(question), {"question_text": "Visite ?", "answer": "Le 12 mars."})
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answer == "Le 12 mars." and question.published_at == NOW
    response = client.post(answer_url(question), {"answer": ""})
    assert response.status_code == 400 and "Le texte de la réponse est vide." in response.content.decode()


def test_a_late_answer_asks_for_confirmation_and_suggests_postponing(
    client, frozen, consultation, company, company_member, buyer_agent
):
    question = services.question_ask(
        acting_user=company_member, company=company, consultation=consultation, text="Visite ?"
    )
    limit = services.answer_limit(consultation)
    sign_in(client, buyer_agent)
    page = client.get(buyer_list_url(consultation)).content.decode()
    assert "R2132-6 : une réponse ou une information publiée après le" in page and "est tardive" in page
    frozen.move_to(limit + dt.timedelta(seconds=1))
    sign_in(client, buyer_agent)
    page = client.get(answer_url(question)).content.decode()
    assert "Ce délai est dépassé" in page and 'name="confirm_late"' in page
    response = client.post(answer_url(question), {"question_text": "Visite ?", "answer": "Le 12 mars."})
    assert response.status_code == 409
    assert "Réponse tardive" in response.content.decode() and "reportez la date limite" in response.content.decode()
    question.refresh_from_db()
    assert question.published_at is None
    response = client.post(
        answer_url(question), {"question_text": "Visite ?", "answer": "Le 12 mars.", "confirm_late": "on"}
    )
    assert response.status_code == 302
    question.refresh_from_db()
    assert question.published_late is True


def test_the_buyer_publishes_information(client, consultation, buyer_agent):
    url = reverse("questions_buyer:information", args=[consultation.organisation.slug, consultation.pk])
    sign_in(client, buyer_agent)
    assert client.post(url, {"text": " "}).status_code == 400
    assert client.post(url, {"text": "Visite le 12 mars."}).status_code == 302
    [entry] = questions_of(consultation)
    assert entry.kind == Kind.INFORMATION and entry.published_at == NOW
    assert client.get(answer_url(entry)).status_code == 200  # its edit page
    assert "Visite le 12 mars." in client.get(public_url(consultation)).content.decode()


def test_another_buyers_staff_gets_404_everywhere(client, consultation, company, company_member, outsider, other_buyer):
    question = services.question_ask(acting_user=company_member, company=company, consultation=consultation, text="Q")
    sign_in(client, outsider)
    slug = consultation.organisation.slug
    assert client.get(buyer_list_url(consultation)).status_code == 404
    assert client.post(answer_url(question), {"answer": "Piraté"}).status_code == 404
    # Under their own organisation's address, the consultation of another buyer does not exist either.
    own = reverse("questions_buyer:answer", args=[other_buyer.slug, consultation.pk, question.pk])
    assert client.post(own, {"answer": "Piraté"}).status_code == 404
    assert client.get(reverse("questions_buyer:list", args=[other_buyer.slug, consultation.pk])).status_code == 404
    info = reverse("questions_buyer:information", args=[other_buyer.slug, consultation.pk])
    assert client.post(info, {"text": "Piraté"}).status_code == 404
    assert slug != other_buyer.slug
    question.refresh_from_db()
    assert question.published_at is None and len(questions_of(consultation)) == 1


def test_a_question_of_another_consultation_is_not_found_under_this_one(client, buyer, consultation, buyer_agent):
    other = ConsultationFactory(organisation=buyer, published=True)
    with scopes_disabled():
        question = Question.objects.create(consultation=other, number=1, kind=Kind.QUESTION, text="Q", asked_at=NOW)
    url = reverse("questions_buyer:answer", args=[buyer.slug, consultation.pk, question.pk])
    assert sign_in(client, buyer_agent).get(url).status_code == 404


def test_the_buyer_block_shows_counts_and_the_r2132_6_limit(rf, consultation, company, company_member, buyer_agent):
    services.question_ask(acting_user=company_member, company=company, consultation=consultation, text="Q")
    request = rf.get("/")
    request.user = buyer_agent
    request.organisation_roles = {Role.BUYER_AGENT}
    with scope(organisation=consultation.organisation):  # as on the buyer's pages (organisation_view)
        html = Template("{% load questions_buyer %}{% questions_buyer_block consultation %}").render(
            RequestContext(request, {"consultation": consultation})
        )
    assert "1 question reçue" in html and "1 en attente de réponse" in html
    assert "R2132-6" in html and "Publier une information" in html
    limit = services.answer_limit(consultation)
    assert limit.astimezone(dt.timezone(dt.timedelta(hours=1))).strftime("%H:%M") in html


def test_the_consultation_pages_carry_the_questions_blocks(client, consultation, company, company_member, buyer_agent):
    answered(consultation, company, company_member, buyer_agent, "Visite ?", "Le 12 mars.")
    page = client.get(reverse("consultations_public:detail", args=[consultation.pk])).content.decode()
    assert 'id="questions"' in page and "Le 12 mars." in page and "Connectez-vous pour poser une question" in page
    assert company.name not in page
    sign_in(client, buyer_agent)
    page = client.get(reverse("consultations_buyer:detail", args=[consultation.organisation.slug, consultation.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and "1 question reçue" in html and "Voir les questions et y répondre" in html


def test_the_public_block_reads_a_fixed_number_of_queries(
    client, consultation, company, company_member, buyer_agent, django_assert_max_num_queries
):
    sign_in(client, company_member)
    url = reverse("consultations_public:detail", args=[consultation.pk])
    answered(consultation, company, company_member, buyer_agent)
    client.get(url)  # the consultation's lots and codes are rendered once per version, then reused
    with django_assert_max_num_queries(100) as few:
        client.get(url)
    for n in range(8):
        answered(consultation, company, company_member, buyer_agent, f"Question {n}", f"Réponse {n}")
        services.question_ask(acting_user=company_member, company=company, consultation=consultation, text=f"Q{n}")
    with django_assert_max_num_queries(len(few.captured_queries)) as many:
        page = client.get(url).content.decode()
    assert "Réponse 7" in page and "Q7" in page
    assert len(many.captured_queries) == len(few.captured_queries)
