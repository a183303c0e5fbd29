"""Rectification mails, sent for real through the task queue to an SMTP server, in each downloader's
language, with a link to the consultation and an unsubscribe link that works."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.tasks import task_backends

from ebourgogne.core.worker import make_worker
from ebourgogne.dce import selectors, services
from ebourgogne.dce.tests.helpers import add_file, published_with_files

pytestmark = pytest.mark.django_db(transaction=True)


def body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_rectification_mails_every_identified_downloader_who_can_unsubscribe(smtp_server, client, buyer, buyer_agent):
    consultation = published_with_files(
        buyer, buyer_agent, {"RC.pdf": b"rc"}, archive=False, title="Réfection du gymnase"
    )
    services.register_downloader(consultation=consultation, email="marie@exemple.test", name="Marie", language="fr")
    services.register_downloader(consultation=consultation, email="jordan@example.test", name="Jordan", language="en")
    gone = services.register_downloader(consultation=consultation, email="parti@exemple.test")
    services.unsubscribe(token=services.unsubscribe_token(gone))
    add_file(buyer_agent, consultation, "Plan des locaux.pdf", b"plan")
    with transaction.atomic():
        services.publish_changes(acting_user=buyer_agent, consultation=consultation, reason="Ajout du plan des locaux.")
    make_worker(backend=task_backends["default"], batch=True).run()

    english, french = sorted(smtp_server.wait_for(2), key=lambda message: message["To"])
    assert [english["To"], french["To"]] == ["jordan@example.test", "marie@exemple.test"]
    assert french["Subject"] == "Rectificatif du DCE : Réfection du gymnase"
    assert english["Subject"] == "Amendment to the tender documents: Réfection du gymnase"
    text = body(french)
    assert "Ajout du plan des locaux." in text and "- Plan des locaux.pdf" in text
    assert f"/consultations/{consultation.pk}/" in text
    assert "Ajout du plan des locaux." in body(english) and "To stop receiving" in body(english)

    link = re.search(r"https?://[^/\s]+(/consultations/\d+/dce/desinscription/\S+/)", text)
    assert link
    page = client.get(link.group(1))
    assert page.status_code == 200 and "Me désinscrire" in page.content.decode()
    assert sorted(d.email for d in selectors.identified_downloaders(consultation)) == [
        "jordan@example.test",
        "marie@exemple.test",
    ]
    done = client.post(link.group(1))
    assert done.status_code == 200 and "C'est fait" in done.content.decode()
    assert [d.email for d in selectors.identified_downloaders(consultation)] == ["jordan@example.test"]
    # A forged or altered token does nothing.
    assert client.get(link.group(1)[:-3] + "xx/").status_code == 404
