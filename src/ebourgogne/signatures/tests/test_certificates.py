"""Signing certificates: upload checks (every refusal with its message, nothing stored), platform-issued
certificates (passphrase, sealing), revocation, the pages and who sees what."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography import x509
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ebourgogne.audit.models import AuditEvent
from ebourgogne.core.errors import DomainError, NotFound
from ebourgogne.signatures import services
from ebourgogne.signatures.models import Origin, SigningCertificate
from ebourgogne.signatures.tests.pkcs12 import PASSWORD, make_pkcs12
from ebourgogne.testing.factories import UserFactory, sign_in

pytestmark = pytest.mark.django_db

PASSPHRASE = "ma phrase secrète de signature"
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def person():
    return UserFactory(full_name="Paul Président", email="paul@beaune.test")


def upload(person, data: bytes, password: str = PASSWORD):
    return services.certificate_upload(user=person, data=data, password=password)


def refused(person, data: bytes, password: str = PASSWORD) -> DomainError:
    with pytest.raises(DomainError) as caught:
        upload(person, data, password)
    assert SigningCertificate.objects.filter(user=person).count() == 0
    return caught.value


def test_upload_keeps_the_certificate_sealed_and_not_the_password(person):
    data = make_pkcs12()
    certificate = upload(person, data)
    assert certificate.origin == Origin.UPLOADED
    assert "Paul Président" in certificate.subject
    assert "AC de test racine" in certificate.issuer
    parsed = x509.load_der_x509_certificate(bytes(certificate.certificate_der))
    assert certificate.fingerprint == services.certificates.fingerprint(parsed)
    assert certificate.serial == format(parsed.serial_number, "x")
    assert certificate.not_after == parsed.not_valid_after_utc
    assert "BEGIN CERTIFICATE" in certificate.chain_pem
    sealed = bytes(certificate.sealed_pkcs12)
    assert data not in sealed and PASSWORD.encode() not in sealed
    # What is sealed is the file as uploaded, bound to its owner and certificate.
    assert services._unseal(sealed, kind="pkcs12", user_id=person.pk, fingerprint=certificate.fingerprint) == data
    with pytest.raises(DomainError):
        services._unseal(sealed, kind="pkcs12", user_id=person.pk + 1, fingerprint=certificate.fingerprint)
    event = AuditEvent.objects.get(action="signatures.certificate.uploaded")
    assert event.data["fingerprint"] == certificate.fingerprint
    assert PASSWORD not in str(event.data)


def test_wrong_password_is_refused(person):
    error = refused(person, make_pkcs12(), "pas le bon")
    assert error.code == "wrong_password"
    assert "mot de passe du certificat est incorrect" in error.message


def test_not_a_pkcs12_is_refused(person):
    assert refused(person, b"%PDF-1.7 ceci est un PDF").code == "not_pkcs12"
    assert refused(person, b"").code == "not_pkcs12"
    pem = make_pkcs12()  # the right bytes, cut: damaged
    assert refused(person, pem[: len(pem) // 2]).code == "not_pkcs12"


def test_expired_certificate_is_refused_with_its_date(person):
    data = make_pkcs12(not_before=NOW - dt.timedelta(days=800), not_after=NOW - dt.timedelta(days=2))
    error = refused(person, data)
    assert error.code == "expired"
    assert "a expiré le" in error.message


def test_certificate_not_yet_valid_is_refused(person):
    data = make_pkcs12(not_before=NOW + dt.timedelta(days=3), not_after=NOW + dt.timedelta(days=300))
    error = refused(person, data)
    assert error.code == "not_yet_valid"
    assert "pas encore valide" in error.message


def test_certificate_without_signing_usage_is_refused(person):
    error = refused(person, make_pkcs12(sign_usage=False))
    assert error.code == "key_usage"
    assert "signature numérique" in error.message
    # Without the key usage extension every usage is allowed (RFC 5280 §4.2.1.3).
    assert upload(person, make_pkcs12(key_usage=False)).pk


def test_short_rsa_key_is_refused(person):
    assert refused(person, make_pkcs12(rsa_bits=1024)).code == "weak_key"
    assert upload(person, make_pkcs12(rsa_bits=2048)).pk


def test_pkcs12_without_password(person):
    assert upload(person, make_pkcs12(password=None), "").pk


def test_same_certificate_twice_is_refused(person):
    data = make_pkcs12()
    upload(person, data)
    with pytest.raises(DomainError) as caught:
        upload(person, data)
    assert caught.value.code == "duplicate"
    assert SigningCertificate.objects.filter(user=person).count() == 1


def test_platform_certificate_needs_the_passphrase(person):
    certificate = services.certificate_issue(user=person, passphrase=PASSPHRASE)
    assert certificate.origin == Origin.PLATFORM
    assert "Paul Président" in certificate.subject and "paul@beaune.test" in certificate.subject
    assert "e-bourgogne autorité de signature" in certificate.issuer
    parsed = x509.load_der_x509_certificate(bytes(certificate.certificate_der))
    usage = parsed.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert (parsed.not_valid_after_utc - parsed.not_valid_before_utc) > dt.timedelta(days=700)
    assert PASSPHRASE.encode() not in bytes(certificate.sealed_key)
    assert services.open_signer(certificate, PASSPHRASE) is not None
    with pytest.raises(DomainError) as caught:
        services.open_signer(certificate, "une autre phrase secrète")
    assert caught.value.code == "wrong_secret"
    assert "phrase secrète de signature est incorrecte" in caught.value.message


def test_platform_certificate_refuses_a_short_passphrase(person):
    with pytest.raises(DomainError) as caught:
        services.certificate_issue(user=person, passphrase="court")
    assert caught.value.code == "weak_passphrase"
    assert not SigningCertificate.objects.filter(user=person).exists()


def test_uploaded_certificate_opens_with_its_password_only(person):
    certificate = upload(person, make_pkcs12())
    assert services.open_signer(certificate, PASSWORD) is not None
    with pytest.raises(DomainError) as caught:
        services.open_signer(certificate, "faux")
    assert caught.value.code == "wrong_secret"


def test_revoked_certificate_cannot_sign_and_loses_its_key(person):
    certificate = services.certificate_issue(user=person, passphrase=PASSPHRASE)
    services.certificate_revoke(user=person, certificate=certificate, reason="Ordinateur perdu")
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None and certificate.sealed_key is None
    with pytest.raises(DomainError) as caught:
        services.open_signer(certificate, PASSPHRASE)
    assert caught.value.code == "revoked"
    with pytest.raises(DomainError):
        services.certificate_revoke(user=person, certificate=certificate)
    assert AuditEvent.objects.filter(action="signatures.certificate.revoked").count() == 1


def test_nobody_else_can_revoke_or_use_a_certificate(person):
    certificate = services.certificate_issue(user=person, passphrase=PASSPHRASE)
    stranger = UserFactory()
    with pytest.raises(NotFound):
        services.certificate_revoke(user=stranger, certificate=certificate)
    with pytest.raises(NotFound):
        services.owned(stranger, certificate.pk)


# --- Pages ------------------------------------------------------------------------------------------


def test_pages_list_upload_issue_and_revoke(client, person):
    sign_in(client, person)
    home = reverse("signatures:home")
    assert client.get(home).status_code == 200
    answer = client.post(
        reverse("signatures:upload"),
        {"file": SimpleUploadedFile("moi.p12", make_pkcs12(), "application/x-pkcs12"), "password": "faux"},
    )
    assert answer.status_code == 400
    assert "mot de passe du certificat est incorrect" in answer.content.decode()
    assert "faux" not in answer.content.decode()
    answer = client.post(
        reverse("signatures:upload"),
        {"file": SimpleUploadedFile("moi.p12", b"bonjour", "application/x-pkcs12"), "password": PASSWORD},
    )
    assert answer.status_code == 400 and "PKCS#12" in answer.content.decode()
    answer = client.post(
        reverse("signatures:upload"),
        {"file": SimpleUploadedFile("moi.p12", make_pkcs12(), "application/x-pkcs12"), "password": PASSWORD},
    )
    assert answer.status_code == 302
    answer = client.post(reverse("signatures:issue"), {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE + "x"})
    assert answer.status_code == 400 and "pas identiques" in answer.content.decode()
    answer = client.post(reverse("signatures:issue"), {"passphrase": PASSPHRASE, "passphrase_again": PASSPHRASE})
    assert answer.status_code == 302
    page = client.get(home).content.decode()
    assert page.count("Utilisable") == 2
    certificate = SigningCertificate.objects.get(user=person, origin=Origin.PLATFORM)
    assert certificate.fingerprint in page
    revoke = reverse("signatures:revoke", args=[certificate.pk])
    assert client.get(revoke).status_code == 200
    assert client.post(revoke, {"reason": "plus utile"}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoked_at is not None


def test_pages_of_someone_else_answer_404(client, person):
    certificate = services.certificate_issue(user=person, passphrase=PASSPHRASE)
    sign_in(client, UserFactory())
    revoke = reverse("signatures:revoke", args=[certificate.pk])
    assert client.get(revoke).status_code == 404
    assert client.post(revoke).status_code == 404
    assert certificate.fingerprint not in client.get(reverse("signatures:home")).content.decode()
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_anonymous_is_sent_to_login(client):
    answer = client.get(reverse("signatures:home"))
    assert answer.status_code == 302 and "login" in answer["Location"]


def test_api_lists_my_certificates_only(client, person):
    mine = services.certificate_issue(user=person, passphrase=PASSPHRASE)
    services.certificate_issue(user=UserFactory(), passphrase=PASSPHRASE)
    sign_in(client, person)
    answer = client.get("/api/v1/signatures/certificates")
    assert answer.status_code == 200
    body = answer.json()
    assert [row["fingerprint"] for row in body] == [mine.fingerprint]
    assert "sealed_key" not in body[0]


def test_refusal_in_english(client, person):
    person.language = "en"
    person.save(update_fields=["language"])
    sign_in(client, person)
    answer = client.post(
        reverse("signatures:upload"),
        {"file": SimpleUploadedFile("moi.p12", make_pkcs12(), "application/x-pkcs12"), "password": "faux"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert answer.status_code == 400
    page = answer.content.decode()
    assert "The certificate&#x27;s password is wrong" in page or "The certificate's password is wrong" in page
    assert "My signing certificates" in page


def test_api_refuses_anonymous(client):
    assert client.get("/api/v1/signatures/certificates").status_code == 401
