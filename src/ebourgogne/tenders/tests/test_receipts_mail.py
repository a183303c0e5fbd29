"""The receipt's e-mail, sent for real through the task queue to an SMTP server (aiosmtpd) after the
deposit commits: to the depositor in their language and to the company's contact address, with the
receipt attached as PDF and JSON."""

from __future__ import annotations

import json

import pytest
from django.db import transaction
from django.tasks import task_backends

from ebourgogne.core.worker import make_worker
from ebourgogne.organisations.roles import Role
from ebourgogne.tenders.models import Receipt
from ebourgogne.tenders.tests.receipts_support import consultation_with_key, deposited_bid, issue
from ebourgogne.testing.factories import CompanyFactory, UserFactory, make_member

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


def test_the_receipt_is_mailed_with_its_pdf_to_the_depositor_and_the_company(smtp_server, buyer):
    company = CompanyFactory(name="Plâtrerie de Nuits", slug="platrerie-de-nuits", email="contact@platrerie.test")
    depositor = make_member(company, Role.COMPANY_MEMBER, UserFactory(email="jane@platrerie.test", language="en"))
    consultation, _recipient = consultation_with_key(buyer, reference="2026-NUI-03")
    bid, _files = deposited_bid(company, depositor, consultation)
    with transaction.atomic():
        receipt = issue(bid)
    make_worker(backend=task_backends["default"], batch=True).run()
    messages = {m["To"]: m for m in smtp_server.wait_for(2)}
    assert set(messages) == {"jane@platrerie.test", "contact@platrerie.test"}
    english, french = messages["jane@platrerie.test"], messages["contact@platrerie.test"]
    assert english["Content-Language"] == "en" and french["Content-Language"] == "fr"
    assert receipt.number in french["Subject"] and "2026-NUI-03" in french["Subject"]
    assert receipt.digest in french.get_body(("plain",)).get_content()
    attachments = {part.get_filename(): part for part in french.iter_attachments()}
    assert attachments[f"accuse-{receipt.number}.pdf"].get_content().startswith(b"%PDF-")
    attached = json.loads(attachments[f"accuse-{receipt.number}.json"].get_content())
    assert attached["digest"] == receipt.digest and attached["timestamp_token"]
    assert Receipt.objects.get(pk=receipt.pk).emailed_at is not None


def test_no_mail_when_the_deposit_is_rolled_back(smtp_server, buyer, company, company_member):
    consultation, _recipient = consultation_with_key(buyer)
    bid, _files = deposited_bid(company, company_member, consultation)

    class Abort(Exception):
        pass

    with pytest.raises(Abort), transaction.atomic():
        issue(bid)
        raise Abort
    make_worker(backend=task_backends["default"], batch=True).run()
    assert smtp_server.messages == []
    assert not Receipt.objects.exists()
