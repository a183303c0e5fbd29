"""verify(): signatures made elsewhere, in PAdES, CAdES detached and XAdES, each checked intact and then
tampered with; an expired certificate; garbage. The platform's PAdES is also checked by pdfsig."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from lxml import etree

from ebourgogne.core.errors import DomainError
from ebourgogne.core.pdf import Document
from ebourgogne.signatures import certificates, pades, services
from ebourgogne.signatures.tests.pkcs12 import PASSWORD, make_pkcs12
from ebourgogne.signatures.verify import MAX_SIZE, verify
from ebourgogne.testing.factories import UserFactory
from ebourgogne.testing.pdfsig import pdfsig, signature_blocks
from ebourgogne.timestamping import authority as tsa

pytestmark = pytest.mark.django_db

PASSPHRASE = "ma phrase secrète de signature"


@pytest.fixture
def document() -> bytes:
    doc = Document(title="Acte d'engagement")
    doc.heading("Acte d'engagement")
    doc.paragraph("Le titulaire s'engage pour un montant de 48 200 € HT, révisable selon l'index BT01.")
    return doc.output()


@pytest.fixture
def platform_certificate():
    return services.certificate_issue(user=UserFactory(full_name="Marie Membre"), passphrase=PASSPHRASE)


@pytest.fixture
def signed_pdf(document, platform_certificate) -> bytes:
    return services.sign_pdf(document, certificate=platform_certificate, secret=PASSPHRASE, field_name="Signature1")


def flip_in_first_revision(pdf: bytes) -> bytes:
    tampered = bytearray(pdf)
    tampered[pdf.index(b"stream\n") + 20] ^= 0x01
    return bytes(tampered)


def uploaded_signer(name: str = "Paul Président", **options):
    """A certificate from an outside CA, registered on the platform (so its root is trusted), opened."""
    data = make_pkcs12(name, **options)
    services.certificate_upload(user=UserFactory(full_name=name), data=data, password=PASSWORD)
    return certificates.load_pkcs12(data, PASSWORD)


# --- PAdES ---------------------------------------------------------------------------------------------


def test_a_pdf_signed_by_the_platform_is_verified(signed_pdf, platform_certificate, tmp_path):
    report = verify(signed_pdf, filename="acte.pdf")
    assert report.format == "PAdES" and not report.errors
    assert report.ok
    [result] = report.signatures
    assert result.signer_name == "Marie Membre"
    assert result.integrity_ok and result.trusted
    assert result.certificate_status_at_signing == "valid"
    assert result.certificate.fingerprint == platform_certificate.fingerprint
    assert result.certificate.serial == platform_certificate.serial
    assert "e-bourgogne autorité de signature" in result.certificate.issuer
    assert result.timestamp_ok and result.signing_time_source == "timestamp"
    assert result.signing_time == result.timestamp_time
    assert not result.qualified and result.qualified_label == "non qualifié"
    assert "racine de signature" in result.trust_anchor
    data = json.loads(json.dumps(report.as_dict()))
    assert data["ok"] is True and data["format"] == "PAdES"
    assert data["signatures"][0]["certificate_status_at_signing"] == "valid"
    # The independent reader agrees.
    path = tmp_path / "acte.pdf"
    path.write_bytes(signed_pdf)
    [block] = signature_blocks(pdfsig(path))
    assert "Signer Certificate Common Name: Marie Membre" in block
    assert "Signature Validation: Signature is Valid." in block


def test_a_document_timestamp_after_the_signature_is_verified_too(signed_pdf):
    stamped = services.add_document_timestamp(signed_pdf)
    report = verify(stamped, filename="acte.pdf")
    assert report.ok, report.as_dict()
    signature, stamp = report.signatures
    assert (signature.kind, stamp.kind) == ("signature", "document_timestamp")
    assert any("ajoutés après celle-ci" in message for message in signature.messages)
    assert stamp.timestamp_ok and stamp.signing_time == stamp.timestamp_time >= signature.signing_time


def test_a_pdf_modified_after_signing_fails_integrity(signed_pdf, tmp_path):
    tampered = flip_in_first_revision(signed_pdf)
    report = verify(tampered, filename="acte.pdf")
    assert report.format == "PAdES" and not report.ok
    [result] = report.signatures
    assert not result.integrity_ok and not result.ok
    assert any("modifié après la signature" in message for message in result.messages)
    path = tmp_path / "modifie.pdf"
    path.write_bytes(tampered)
    assert "Signature is Valid." not in signature_blocks(pdfsig(path))[0]


def test_content_appended_after_the_signature_is_reported(signed_pdf):
    from pyhanko.pdf_utils.generic import NameObject, TextStringObject
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    info = writer.root  # change the catalog: a content change, not a signature
    info[NameObject("/Lang")] = TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    report = verify(out.getvalue(), filename="acte.pdf")
    [result] = report.signatures
    assert not result.integrity_ok and not report.ok
    assert any("modifié après cette signature" in message for message in result.messages)


def test_a_signature_with_an_expired_certificate_says_expired(document):
    now = dt.datetime.now(dt.UTC)
    uploaded_signer("Autre Signataire")  # the outside CA's root becomes trusted
    expired = make_pkcs12(
        "Ancien Signataire", not_before=now - dt.timedelta(days=400), not_after=now - dt.timedelta(days=30)
    )
    loaded = certificates.load_pkcs12(expired, PASSWORD)
    signer = pades.make_signer(loaded.private_key, loaded.certificate, loaded.chain)
    signed = pades.sign(document, signer=signer, field_name="Signature1")
    report = verify(signed, filename="ancien.pdf")
    [result] = report.signatures
    assert result.integrity_ok
    assert result.certificate_status_at_signing == "expired"
    assert not result.ok and not report.ok
    assert any("avait expiré" in message for message in result.messages)
    assert result.timestamp_ok and result.signing_time_source == "timestamp"


def test_a_revoked_platform_certificate_signed_after_revocation_is_revoked(document, platform_certificate):
    signer = services.open_signer(platform_certificate, PASSPHRASE)
    services.certificate_revoke(user=platform_certificate.user, certificate=platform_certificate)
    signed = pades.sign(document, signer=signer, field_name="Signature1")
    [result] = verify(signed, filename="acte.pdf").signatures
    assert result.integrity_ok and result.certificate_status_at_signing == "revoked" and not result.ok


def test_a_signature_made_before_revocation_stays_valid(signed_pdf, platform_certificate):
    services.certificate_revoke(user=platform_certificate.user, certificate=platform_certificate)
    [result] = verify(signed_pdf, filename="acte.pdf").signatures
    assert result.certificate_status_at_signing == "valid" and result.ok


def test_an_unsigned_pdf_is_told_clearly(document):
    report = verify(document, filename="vide.pdf")
    assert not report.ok and report.format == "PAdES" and not report.signatures
    assert report.errors == ["Ce PDF ne contient aucune signature électronique."]


# --- CAdES ---------------------------------------------------------------------------------------------


def cades_detached(content: bytes, signer) -> bytes:  # noqa: ANN001
    token = tsa.run_async(
        lambda: signer.async_sign_general_data(
            content, "sha256", detached=True, use_cades=True, timestamper=pades.AuthorityTimeStamper()
        )
    )
    return token.dump()


def test_a_cades_detached_signature_is_verified(platform_certificate):
    content = "Mémoire technique — version finale".encode()
    signature = cades_detached(content, services.open_signer(platform_certificate, PASSPHRASE))
    report = verify(signature, filename="memoire.pdf.p7s", detached=content)
    assert report.format == "CAdES" and report.ok, report.as_dict()
    [result] = report.signatures
    assert result.signer_name == "Marie Membre" and result.integrity_ok and result.trusted
    assert result.timestamp_ok and result.certificate_status_at_signing == "valid"
    assert not result.content_is_zip
    # The two files given the other way round are understood.
    assert verify(content, filename="memoire.pdf", detached=signature).ok


def test_a_cades_signature_over_changed_content_fails(platform_certificate):
    content = b"Offre de prix : 12 000 EUR HT"
    signature = cades_detached(content, services.open_signer(platform_certificate, PASSPHRASE))
    report = verify(signature, filename="offre.p7s", detached=b"Offre de prix : 92 000 EUR HT")
    [result] = report.signatures
    assert not result.integrity_ok and not report.ok
    assert any("ne correspond pas à la signature" in message for message in result.messages)


def test_an_enveloping_p7m_is_verified_with_the_content_it_carries(platform_certificate):
    signer = services.open_signer(platform_certificate, PASSPHRASE)
    token = tsa.run_async(
        lambda: signer.async_sign_general_data(
            b"Contenu enveloppe", "sha256", detached=False, use_cades=True, timestamper=pades.AuthorityTimeStamper()
        )
    )
    report = verify(token.dump(), filename="acte.txt.p7m")
    assert report.format == "CAdES" and report.ok, report.as_dict()


def test_two_files_none_of_which_is_a_detached_signature(signed_pdf):
    report = verify(signed_pdf, filename="acte.pdf", detached=b"autre fichier")
    assert not report.ok and not report.signatures
    assert "Aucun des deux fichiers" in report.errors[0]


def test_a_pem_cades_without_its_file_asks_for_it(platform_certificate):
    from asn1crypto import pem

    signature = cades_detached(b"contenu", services.open_signer(platform_certificate, PASSPHRASE))
    report = verify(pem.armor("CMS", signature), filename="seule.p7s")
    assert report.format == "CAdES" and not report.ok and not report.signatures
    assert "Déposez aussi le fichier signé" in report.errors[0]


def test_a_signed_zip_says_its_contents_are_not_signed(platform_certificate):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("offre.pdf", b"%PDF-1.7 ...")
    content = archive.getvalue()
    signature = cades_detached(content, services.open_signer(platform_certificate, PASSPHRASE))
    [result] = verify(signature, filename="offre.zip.p7s", detached=content).signatures
    assert result.ok and result.content_is_zip
    assert any("pas sur chacun des fichiers" in message for message in result.messages)


# --- XAdES ---------------------------------------------------------------------------------------------


def xades_signed(loaded) -> bytes:  # noqa: ANN001
    from signxml import SignatureMethod
    from signxml.xades import XAdESSigner

    root = etree.fromstring(
        b"<Offre xmlns='urn:e-bourgogne:test'><Montant devise='EUR'>12000</Montant>"
        b"<Objet>Entretien des espaces verts</Objet></Offre>"
    )
    signed = XAdESSigner(signature_algorithm=SignatureMethod.ECDSA_SHA256).sign(
        root, key=loaded.private_key, cert=[loaded.certificate, *loaded.chain]
    )
    return etree.tostring(signed, xml_declaration=True, encoding="UTF-8")


def test_a_xades_enveloped_signature_is_verified():
    data = xades_signed(uploaded_signer("Claire Candidate"))
    report = verify(data, filename="offre.xml")
    assert report.format == "XAdES" and report.ok, report.as_dict()
    [result] = report.signatures
    assert result.signer_name == "Claire Candidate" and result.integrity_ok and result.trusted
    assert result.signing_time_source == "claimed" and result.certificate_status_at_signing == "valid"
    assert "AC de test racine" in result.trust_anchor


def test_a_tampered_xades_signature_fails():
    data = xades_signed(uploaded_signer("Claire Candidate"))
    tampered = data.replace(b">12000<", b">92000<")
    assert tampered != data
    report = verify(tampered, filename="offre.xml")
    [result] = report.signatures
    assert not result.integrity_ok and not report.ok
    assert any("n'est pas valide" in message for message in result.messages)


def test_an_xml_signed_by_an_unknown_authority_is_intact_but_not_trusted():
    from ebourgogne.signatures.tests.pkcs12 import make_pkcs12 as make

    loaded = certificates.load_pkcs12(make("Inconnu"), PASSWORD)  # not registered: its root is not trusted
    report = verify(xades_signed(loaded), filename="offre.xml")
    [result] = report.signatures
    assert result.integrity_ok and not result.trusted and not result.ok


# --- Garbage -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x00\x01 ceci n'est pas une signature", "aucune signature n'a pu y être lue"),
        (b"<pas du xml", "mal formé"),
        (b"<doc>rien</doc>", "aucune signature"),
        (b"%PDF-1.7\n garbage", "illisible"),
        (b"0\x82\x01\x00garbage", "aucune signature n'a pu y être lue"),
        (b"PK\x03\x04 archive", "archive ZIP"),
    ],
)
def test_garbage_gives_a_clear_message(data, expected):
    report = verify(data, filename="n'importe.quoi")
    assert not report.ok and not report.signatures
    assert any(expected in error for error in report.errors), report.errors
    json.dumps(report.as_dict())


def test_empty_and_oversized_files_are_refused():
    with pytest.raises(DomainError) as caught:
        verify(b"", filename="vide.pdf")
    assert caught.value.code == "empty"
    with pytest.raises(DomainError) as caught:
        verify(b"x" * (MAX_SIZE + 1), filename="gros.pdf")
    assert caught.value.code == "too_large"
