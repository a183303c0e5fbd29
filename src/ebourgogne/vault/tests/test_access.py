"""The vault's access matrix: company members and admins; another company; the platform operator; a buyer
before a grant, after it, after its revocation, for another consultation; another buyer. Deny by default:
whoever is not of the company gets 404 (or 403 for a member of the organisation without the role)."""

from __future__ import annotations

import pytest
from django.test import Client
from django_scopes import scopes_disabled

from ebourgogne.audit.models import AuditEvent
from ebourgogne.organisations.roles import Role
from ebourgogne.tenders.models import Bid
from ebourgogne.testing.factories import ConsultationFactory, UserFactory, make_member, make_operator, sign_in
from ebourgogne.vault.models import VaultGrant
from ebourgogne.vault.tests.conftest import pdf_bytes
from ebourgogne.vault.tests.helpers import body_of, upload

pytestmark = pytest.mark.django_db


def client_of(user) -> Client:
    return sign_in(Client(), user)


@pytest.fixture
def setting(company, company_admin, company_member, buyer, other_buyer, vault_dir):
    """Two documents in the company's vault, a consultation of `buyer` the company bids on, and another."""
    admin = client_of(company_admin)
    assert upload(admin, company, "kbis.pdf", pdf_bytes(9000, b"kbis"), title="Kbis").status_code == 302
    assert upload(admin, company, "rib.pdf", pdf_bytes(9000, b"rib"), doc_type="bank", title="RIB").status_code == 302
    with scopes_disabled():
        consultation = ConsultationFactory(organisation=buyer, published=True)
        second = ConsultationFactory(organisation=buyer, published=True)
        elsewhere = ConsultationFactory(organisation=other_buyer, published=True)
        for c in (consultation, second, elsewhere):
            Bid.objects.create(consultation=c, company=company)
        from ebourgogne.vault.models import VaultDocument

        documents = {d.title: d for d in VaultDocument.objects.filter(company=company)}
    return {
        "admin": admin,
        "consultation": consultation,
        "second": second,
        "elsewhere": elsewhere,
        "kbis": documents["Kbis"],
        "rib": documents["RIB"],
    }


def company_urls(company, document) -> list[str]:
    base = f"/organisations/{company.slug}/coffre-fort"
    return [
        f"{base}/",
        f"{base}/{document.pk}/",
        f"{base}/{document.pk}/telecharger/",
        f"{base}/{document.pk}/versions/1/telecharger/",
        f"{base}/acces/",
        f"/api/v1/companies/{company.slug}/vault/documents",
        f"/api/v1/companies/{company.slug}/vault/documents/{document.pk}/content",
    ]


def grant(setting, company, *, consultation=None, documents=("kbis",), all_documents=False):
    data = {"consultation": str((consultation or setting["consultation"]).pk)}
    if all_documents:
        data["all_documents"] = "on"
    data["documents"] = [str(setting[name].pk) for name in documents]
    answer = setting["admin"].post(f"/organisations/{company.slug}/coffre-fort/acces/accorder/", data)
    assert answer.status_code == 302, answer.content.decode()[:3000]
    with scopes_disabled():
        return VaultGrant.objects.order_by("-pk").first()


def test_company_admins_and_members_see_everything(company, company_admin, company_member, setting):
    for user in (company_admin, company_member):
        client = client_of(user)
        for url in company_urls(company, setting["kbis"]):
            assert client.get(url).status_code == 200, url
        assert body_of(client.get(company_urls(company, setting["kbis"])[2])) == pdf_bytes(9000, b"kbis")


def test_everyone_else_is_refused_without_learning_anything(
    company, setting, other_company_admin, buyer_admin, outsider
):
    for user in (other_company_admin, buyer_admin, outsider):
        client = client_of(user)
        for url in company_urls(company, setting["kbis"]):
            assert client.get(url).status_code == 404, (user, url)
        assert upload(client, company, "x.pdf", pdf_bytes()).status_code == 404
    anonymous = Client()
    assert anonymous.get(company_urls(company, setting["kbis"])[2]).status_code == 302  # to the login page
    assert anonymous.get(company_urls(company, setting["kbis"])[-1]).status_code == 401


def test_the_platform_operator_has_no_access(company, setting):
    client = client_of(make_operator())
    for url in company_urls(company, setting["kbis"]):
        assert client.get(url).status_code == 403, url


def test_another_companys_document_through_my_own_vault_is_404(company, setting, other_company, other_company_admin):
    client = client_of(other_company_admin)
    base = f"/organisations/{other_company.slug}/coffre-fort"
    assert client.get(f"{base}/").status_code == 200
    assert client.get(f"{base}/{setting['kbis'].pk}/telecharger/").status_code == 404
    assert (
        client.get(f"/api/v1/companies/{other_company.slug}/vault/documents/{setting['kbis'].pk}/content").status_code
        == 404
    )
    assert client.get(f"/api/v1/companies/{other_company.slug}/vault/documents").json() == []


def test_a_member_may_not_grant_only_an_admin(company, company_member, setting):
    client = client_of(company_member)
    answer = client.post(
        f"/organisations/{company.slug}/coffre-fort/acces/accorder/",
        {"consultation": str(setting["consultation"].pk), "all_documents": "on"},
    )
    assert answer.status_code == 403
    with scopes_disabled():
        assert not VaultGrant.objects.exists()


def test_buyer_before_grant_after_grant_after_revocation(company, buyer, buyer_admin, buyer_agent, setting):
    received = f"/organisations/{buyer.slug}/coffre-fort/acces-recus/"
    staff = client_of(buyer_agent)
    assert company.name not in staff.get(received).content.decode()

    given = grant(setting, company)
    page = staff.get(received).content.decode()
    assert company.name in page
    detail = staff.get(f"{received}{given.pk}/")
    assert detail.status_code == 200
    assert "Kbis" in detail.content.decode() and "RIB" not in detail.content.decode()
    assert company.siren in detail.content.decode()
    answer = staff.get(f"{received}{given.pk}/{setting['kbis'].pk}/telecharger/")
    assert answer.status_code == 200 and body_of(answer) == pdf_bytes(9000, b"kbis")
    assert answer["Content-Disposition"].startswith("attachment")
    # Not granted: the other document.
    assert staff.get(f"{received}{given.pk}/{setting['rib'].pk}/telecharger/").status_code == 404
    # The buyer still has no way into the company's vault itself.
    assert staff.get(f"/organisations/{company.slug}/coffre-fort/{setting['kbis'].pk}/telecharger/").status_code == 404
    with scopes_disabled():
        logged = AuditEvent.objects.filter(action="vault.document.downloaded", organisation_id=buyer.pk).get()
        assert logged.data["grant"] == given.pk

    # A new version: the grant shows the current version only.
    from ebourgogne.vault.tests.helpers import add_version

    add_version(setting["admin"], company, setting["kbis"], "kbis-2.pdf", pdf_bytes(7000, b"kbis2"))
    assert body_of(staff.get(f"{received}{given.pk}/{setting['kbis'].pk}/telecharger/")) == pdf_bytes(7000, b"kbis2")

    answer = setting["admin"].post(f"/organisations/{company.slug}/coffre-fort/acces/{given.pk}/revoquer/")
    assert answer.status_code == 302
    assert staff.get(f"{received}{given.pk}/").status_code == 404
    assert staff.get(f"{received}{given.pk}/{setting['kbis'].pk}/telecharger/").status_code == 404
    assert company.name not in staff.get(received).content.decode()
    with scopes_disabled():
        actions = set(AuditEvent.objects.filter(action__startswith="vault.grant").values_list("action", flat=True))
    assert actions == {"vault.grant.created", "vault.grant.received", "vault.grant.revoked"}


def test_a_grant_is_for_its_consultation_only(company, buyer, buyer_agent, setting):
    given = grant(setting, company, consultation=setting["consultation"])
    staff = client_of(buyer_agent)
    base = f"/organisations/{buyer.slug}/coffre-fort/acces-recus/"
    assert company.name in staff.get(base, {"consultation": setting["consultation"].pk}).content.decode()
    assert company.name not in staff.get(base, {"consultation": setting["second"].pk}).content.decode()
    assert given.consultation_id == setting["consultation"].pk


def test_another_buyer_sees_nothing(company, setting, other_buyer):
    given = grant(setting, company, all_documents=True)
    other = client_of(make_member(other_buyer, Role.BUYER_ADMIN, UserFactory()))
    base = f"/organisations/{other_buyer.slug}/coffre-fort/acces-recus/"
    assert company.name not in other.get(base).content.decode()
    assert other.get(f"{base}{given.pk}/").status_code == 404
    assert other.get(f"{base}{given.pk}/{setting['kbis'].pk}/telecharger/").status_code == 404


def test_all_documents_includes_later_ones_and_deleted_ones_leave(company, buyer, buyer_agent, setting):
    given = grant(setting, company, all_documents=True, documents=())
    staff = client_of(buyer_agent)
    url = f"/organisations/{buyer.slug}/coffre-fort/acces-recus/{given.pk}/"
    assert "RIB" in staff.get(url).content.decode()
    upload(setting["admin"], company, "dume.xml", b"<?xml version='1.0'?><dume/>", doc_type="dume", title="DUME 2026")
    assert "DUME 2026" in staff.get(url).content.decode()
    setting["admin"].post(f"/organisations/{company.slug}/coffre-fort/{setting['rib'].pk}/supprimer/")
    assert "RIB" not in staff.get(url).content.decode()
    assert staff.get(f"{url}{setting['rib'].pk}/telecharger/").status_code == 404


def test_grant_bad_input(company, setting):
    admin = setting["admin"]
    url = f"/organisations/{company.slug}/coffre-fort/acces/accorder/"
    with scopes_disabled():
        unrelated = ConsultationFactory(published=True)  # the company has no bid there
    for data in (
        {"consultation": str(unrelated.pk), "all_documents": "on"},
        {"consultation": "", "all_documents": "on"},
        {"consultation": str(setting["consultation"].pk)},  # no document chosen
        {"consultation": "99999999999999999999", "all_documents": "on"},
        {"consultation": str(setting["consultation"].pk), "documents": ["424242"]},
    ):
        answer = admin.post(url, data)
        assert answer.status_code == 400, data
    with scopes_disabled():
        assert not VaultGrant.objects.exists()
    # Revoking twice, or someone else's grant.
    given = grant(setting, company)
    assert admin.post(f"/organisations/{company.slug}/coffre-fort/acces/{given.pk}/revoquer/").status_code == 302
    answer = admin.post(f"/organisations/{company.slug}/coffre-fort/acces/{given.pk}/revoquer/", follow=True)
    assert "déjà révoqué" in answer.content.decode()


def test_buyer_pages_are_not_for_companies(company, company_admin, buyer, setting):
    client = client_of(company_admin)
    assert client.get(f"/organisations/{company.slug}/coffre-fort/acces-recus/").status_code == 403
    assert client.get(f"/organisations/{buyer.slug}/coffre-fort/acces-recus/").status_code == 404
