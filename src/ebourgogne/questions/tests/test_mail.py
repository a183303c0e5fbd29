"""The questions' e-mails, sent for real through the task queue to an SMTP server (aiosmtpd), each in its
recipient's language: the buyer's staff told of a question; answers and information to every identified
downloader and to the asker, one message each, without the asker's identity."""

from __future__ import annotations

import datetime as dt

import pytest
from django.tasks import task_backends
from django_scopes import scopes_disabled

from ebourgogne.core.worker import make_worker
from ebourgogne.dce.models import Downloader
from ebourgogne.organisations.roles import Role
from ebourgogne.questions import services
from ebourgogne.testing.factories import ConsultationFactory, UserFactory, make_member

pytestmark = pytest.mark.django_db(transaction=True)


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def deliver(smtp_server, count: int) -> dict[str, object]:
    make_worker(backend=task_backends["default"], batch=True).run()
    messages = smtp_server.wait_for(count)
    assert len(messages) == count, [m["To"] for m in messages]
    by_recipient = {message["To"]: message for message in messages}
    assert len(by_recipient) == count  # one message per recipient: nobody sees another's address
    return by_recipient


@pytest.fixture(autouse=True)
def cpv_code(db):
    """The CPV code the factory uses: transactional tests flush the codes the migration loaded."""
    from ebourgogne.consultations.models import CpvCode

    CpvCode.objects.get_or_create(
        code="45000000",
        defaults={
            "check_digit": "7",
            "label_fr": "Travaux de construction",
            "label_en": "Construction work",
            "level": 1,
        },
    )


@pytest.fixture
def consultation(buyer, cpv_code):
    return ConsultationFactory(
        organisation=buyer, published=True, reference="2026-BEA-07", title="Rénovation de l'école Jules Ferry"
    )


def test_the_buyers_staff_are_told_of_a_question_in_their_language(smtp_server, consultation, buyer, company):
    make_member(buyer, Role.BUYER_ADMIN, UserFactory(email="alice@beaune.test", language="fr"))
    make_member(buyer, Role.BUYER_AGENT, UserFactory(email="jordan@beaune.test", language="en"))
    make_member(buyer, Role.COMMISSION_MEMBER, UserFactory(email="chantal@beaune.test"))  # does not answer
    asker = make_member(company, Role.COMPANY_MEMBER, UserFactory(email="emma@menuiserie.test"))
    question = services.question_ask(
        acting_user=asker, company=company, consultation=consultation, text="Une visite est-elle prévue ?"
    )
    mails = deliver(smtp_server, 2)
    french, english = mails["alice@beaune.test"], mails["jordan@beaune.test"]
    assert french["Subject"] == "Question n° 1 reçue sur la consultation 2026-BEA-07"
    assert "Une entreprise a posé la question n° 1" in body(french) and "Une visite est-elle prévue ?" in body(french)
    answer_path = f"/organisations/{buyer.slug}/consultations/{consultation.pk}/questions/{question.pk}/repondre/"
    assert answer_path in body(french)
    assert english["Subject"] == "Question no. 1 received on the consultation 2026-BEA-07"
    assert "A company asked question no. 1" in body(english) and "R2132-6" in body(english)
    assert english["Content-Language"] == "en"


def test_the_answer_goes_to_every_identified_downloader_and_the_asker_in_their_language(
    smtp_server, consultation, company, buyer_agent
):
    asker = make_member(company, Role.COMPANY_MEMBER, UserFactory(email="emma@menuiserie.test", language="en"))
    with scopes_disabled():
        Downloader.objects.create(consultation=consultation, email="durand@btp.test", language="fr")
        Downloader.objects.create(consultation=consultation, email="smith@build.test", language="en")
        Downloader.objects.create(consultation=consultation, email="EMMA@menuiserie.test", language="fr")  # the asker
        gone = Downloader.objects.create(consultation=consultation, email="parti@btp.test", language="fr")
        Downloader.objects.filter(pk=gone.pk).update(unsubscribed_at=consultation.published_at)
        Downloader.objects.create(
            consultation=ConsultationFactory(organisation=consultation.organisation, published=True),
            email="ailleurs@btp.test",
        )
    question = services.question_ask(
        acting_user=asker, company=company, consultation=consultation, text="Is the removal included?"
    )
    smtp_server.clear()
    services.question_answer(acting_user=buyer_agent, question=question, answer="Oui, au lot 2.")
    make_worker(backend=task_backends["default"], batch=True).run()  # the question's mail to the staff
    smtp_server.clear()
    services.question_answer(acting_user=buyer_agent, question=question, answer="Oui, au lot 2 uniquement.")
    mails = deliver(smtp_server, 3)
    assert set(mails) == {"durand@btp.test", "smith@build.test", "emma@menuiserie.test"}
    french, english, asker_mail = mails["durand@btp.test"], mails["smith@build.test"], mails["emma@menuiserie.test"]
    assert french["Subject"] == "Réponse modifiée à la question n° 1 — consultation 2026-BEA-07"
    assert "a modifié sa réponse à la question n° 1" in body(french)
    assert "Oui, au lot 2 uniquement." in body(french) and "Is the removal included?" in body(french)
    assert english["Subject"] == "Amended answer to question no. 1 — consultation 2026-BEA-07"
    assert asker_mail["Subject"] == english["Subject"]  # the asker's account language, not the downloader row's
    assert f"/consultations/{consultation.pk}/" in body(english)
    for message in mails.values():
        text = body(message)
        assert company.name not in text and "emma@" not in text and asker.full_name not in text


def test_first_answer_and_information_mails(smtp_server, consultation, company, buyer_agent):
    asker = make_member(company, Role.COMPANY_MEMBER, UserFactory(email="emma@menuiserie.test", language="fr"))
    with scopes_disabled():
        Downloader.objects.create(consultation=consultation, email="smith@build.test", language="en")
    question = services.question_ask(acting_user=asker, company=company, consultation=consultation, text="Visite ?")
    make_worker(backend=task_backends["default"], batch=True).run()
    smtp_server.clear()
    services.question_answer(acting_user=buyer_agent, question=question, answer="Le 12 mars.")
    mails = deliver(smtp_server, 2)
    assert mails["emma@menuiserie.test"]["Subject"] == "Réponse à la question n° 1 — consultation 2026-BEA-07"
    assert mails["smith@build.test"]["Subject"] == "Answer to question no. 1 — consultation 2026-BEA-07"
    smtp_server.clear()
    services.information_publish(acting_user=buyer_agent, consultation=consultation, text="Visite reportée au 14.")
    mails = deliver(smtp_server, 1)  # information: to the identified downloaders
    english = mails["smith@build.test"]
    assert english["Subject"] == "Information no. 2 from the buyer — consultation 2026-BEA-07"
    assert "Visite reportée au 14." in body(english) and "publishes information" in body(english)


def test_followers_are_told_when_the_deadline_is_postponed_and_when_the_consultation_is_cancelled(
    smtp_server, consultation, company, buyer_agent
):
    from ebourgogne.consultations import services as consultations

    asker = make_member(company, Role.COMPANY_MEMBER, UserFactory(email="emma@menuiserie.test", language="fr"))
    outsider_company_user = UserFactory(email="nobody@ailleurs.test")  # neither downloaded nor asked
    with scopes_disabled():
        Downloader.objects.create(consultation=consultation, email="smith@build.test", language="en")
    services.question_ask(acting_user=asker, company=company, consultation=consultation, text="Visite ?")
    make_worker(backend=task_backends["default"], batch=True).run()
    smtp_server.clear()

    new_deadline = consultation.bids_deadline + dt.timedelta(days=7)
    consultations.consultation_postpone_deadline(
        acting_user=buyer_agent, consultation=consultation, bids_deadline=new_deadline, reason="Rectificatif du CCTP"
    )
    mails = deliver(smtp_server, 2)
    assert set(mails) == {"emma@menuiserie.test", "smith@build.test"}
    french, english = mails["emma@menuiserie.test"], mails["smith@build.test"]
    assert french["Subject"] == "Date limite reportée — consultation 2026-BEA-07"
    assert "a reporté la date limite" in body(french) and "Rectificatif du CCTP" in body(french)
    assert english["Subject"] == "Deadline postponed — consultation 2026-BEA-07"
    assert "New deadline" in body(english)
    assert outsider_company_user.email not in smtp_server.envelopes[0].rcpt_tos

    smtp_server.clear()
    consultations.consultation_cancel(acting_user=buyer_agent, consultation=consultation, reason="Besoin disparu")
    mails = deliver(smtp_server, 2)
    assert mails["emma@menuiserie.test"]["Subject"] == "Consultation 2026-BEA-07 annulée"
    assert "Besoin disparu" in body(mails["emma@menuiserie.test"])
    assert mails["smith@build.test"]["Subject"] == "Consultation 2026-BEA-07 cancelled"


def test_followers_are_told_when_only_the_questions_deadline_moves(smtp_server, consultation, buyer_agent):
    from ebourgogne.consultations import services as consultations

    with scopes_disabled():
        Downloader.objects.create(consultation=consultation, email="smith@build.test", language="en")
    later = consultation.questions_deadline + dt.timedelta(days=2)
    consultations.consultation_update(acting_user=buyer_agent, consultation=consultation, questions_deadline=later)
    [english] = deliver(smtp_server, 1).values()
    assert english["Subject"] == "Deadline for questions changed — consultation 2026-BEA-07"
    assert "Bid deadline, unchanged" in body(english) and "Former deadline for questions" in body(english)


def test_other_changes_and_rolled_back_changes_send_nothing(smtp_server, consultation, company, buyer_agent):
    from django.db import transaction

    from ebourgogne.consultations import services as consultations

    with scopes_disabled():
        Downloader.objects.create(consultation=consultation, email="smith@build.test", language="en")
    consultations.consultation_update(acting_user=buyer_agent, consultation=consultation, title="Nouvel intitulé")
    with pytest.raises(RuntimeError), transaction.atomic():
        consultations.consultation_cancel(acting_user=buyer_agent, consultation=consultation, reason="Erreur")
        raise RuntimeError("rolled back")
    make_worker(backend=task_backends["default"], batch=True).run()
    assert smtp_server.messages == []
