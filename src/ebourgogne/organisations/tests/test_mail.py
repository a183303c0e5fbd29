"""The invitation e-mail, sent for real through the task queue to an SMTP server (aiosmtpd), in the
invitee's language: English for an English-speaking account, French for everyone else."""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.tasks import task_backends

from ebourgogne.core.worker import make_worker
from ebourgogne.organisations import services
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import BuyerFactory, UserFactory, make_member

pytestmark = pytest.mark.django_db(transaction=True)


def body(message) -> str:
    part = message.get_body(preferencelist=("plain",))
    return part.get_content()


def test_invitations_arrive_in_the_invitees_language_with_a_working_link(smtp_server, client, settings):
    buyer = BuyerFactory(name="Commune de Beaune")
    admin = make_member(buyer, Role.BUYER_ADMIN, UserFactory(full_name="Alice Administratrice"))
    UserFactory(email="jordan@example.test", language="en")
    with transaction.atomic():
        services.invitation_create(
            acting_user=admin, organisation=buyer, email="jordan@example.test", role=Role.BUYER_AGENT
        )
        _invitation, token = services.invitation_create(
            acting_user=admin, organisation=buyer, email="camille@exemple.test", role=Role.COMMISSION_MEMBER
        )
    assert smtp_server.messages == []  # sent by the worker, after the commit

    make_worker(backend=task_backends["default"], batch=True).run()

    french, english = sorted(smtp_server.wait_for(2), key=lambda message: message["To"])
    assert english["To"] == "jordan@example.test"
    assert english["Subject"] == "Invitation to join Commune de Beaune on e-bourgogne"
    assert (
        "Alice Administratrice invites you to join Commune de Beaune on e-bourgogne, with the role “Buyer agent”."
        in body(english)
    )
    assert french["Subject"] == "Invitation à rejoindre Commune de Beaune sur e-bourgogne"
    text = body(french)
    assert "avec le rôle « Membre de commission »" in text and "valable jusqu'au" in text
    link = re.search(r"https?://\S+/organisations/invitation/(\S+)/", text)
    assert link and link.group(1) == token
    assert token not in body(english)  # each mail carries only its own token
    response = client.get(f"/organisations/invitation/{token}/")
    assert response.status_code == 200 and "Commune de Beaune" in response.content.decode()
