"""The letters' and the documents request's e-mails, sent for real through the task queue to the SMTP
test server (aiosmtpd) after the decision commits: to the depositor in their language and to the
company's contact address, with the link to the letter on the company's page."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.tasks import task_backends
from django_scopes import scopes_disabled

from ebourgogne.awards import services
from ebourgogne.awards.models import Award
from ebourgogne.awards.tests.test_letters import _decided
from ebourgogne.core.worker import make_worker
from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import UserFactory, make_member

pytestmark = pytest.mark.django_db(transaction=True)


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


def test_letters_and_documents_are_mailed(opened, buyer_agent, company, rivals, smtp_server):
    depositor = make_member(company, Role.COMPANY_MEMBER, UserFactory(email="jane@menuiserie.test", language="en"))
    with scopes_disabled():
        opened.bids[0].deposited_by = depositor
        opened.bids[0].save(update_fields=["deposited_by"])
    with transaction.atomic():
        award = _decided(opened, buyer_agent, documents=["Attestation URSSAF"], documents_deadline="2099-01-31")
        sent = services.letters_send(acting_user=buyer_agent, award=award)
    make_worker(backend=task_backends["default"], batch=True).run()
    messages = smtp_server.wait_for(4)
    by_to: dict[str, list] = {}
    for message in messages:
        by_to.setdefault(message["To"], []).append(message)
    assert "jane@menuiserie.test" in by_to and "contact@morvan.test" in by_to
    jane = by_to["jane@menuiserie.test"][0]
    assert jane["Content-Language"] == "en"
    letter = next(item for item in sent if item.company_id == company.pk)
    assert f"/organisations/{company.slug}/courriers/{letter.pk}/" in jane.get_body(("plain",)).get_content()
    morvan = " ".join(m["Subject"] for m in by_to["contact@morvan.test"])
    assert opened.consultation.reference in morvan
    with scopes_disabled():
        assert Award.objects.get(pk=award.pk).document_requests.get().items == ["Attestation URSSAF"]
