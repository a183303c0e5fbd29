"""PAdES signatures: two signers in turn (an uploaded certificate from an outside CA, a platform-issued
one), then a document timestamp; checked by pyHanko and by poppler's `pdfsig`, an independent reader."""

from __future__ import annotations

import pytest

from ebourgogne.core.errors import DomainError
from ebourgogne.core.pdf import Document
from ebourgogne.signatures import pades, services
from ebourgogne.signatures.tests.pkcs12 import PASSWORD, make_pkcs12
from ebourgogne.testing.factories import UserFactory
from ebourgogne.testing.pdfsig import pdfsig, signature_blocks  # noqa: F401 - re-exported for other tests

pytestmark = pytest.mark.django_db

PASSPHRASE = "ma phrase secrète de signature"


@pytest.fixture
def document() -> bytes:
    doc = Document(title="Procès-verbal d'essai")
    doc.heading("Procès-verbal d'essai")
    doc.paragraph("La commission a retenu l'offre économiquement la plus avantageuse : 12 500 € HT, œuvre comprise.")
    return doc.output()


@pytest.fixture
def signed(document):
    first = services.certificate_upload(
        user=UserFactory(full_name="Paul Président"), data=make_pkcs12("Paul Président"), password=PASSWORD
    )
    second = services.certificate_issue(user=UserFactory(full_name="Marie Membre"), passphrase=PASSPHRASE)
    once = services.sign_pdf(
        document,
        certificate=first,
        secret=PASSWORD,
        field_name="Signature1",
        reason="Procès-verbal",
        location="Beaune",
        signer_name="Paul Président",
    )
    twice = services.sign_pdf(once, certificate=second, secret=PASSPHRASE, field_name="Signature2")
    final = services.add_document_timestamp(twice)
    return document, once, twice, final, first, second


def test_incremental_updates_keep_every_earlier_byte(signed):
    document, once, twice, final, *_ = signed
    assert once.startswith(document) and twice.startswith(once) and final.startswith(twice)


def test_pyhanko_validates_every_signature_and_the_document_timestamp(signed):
    *_, final, first, second = signed
    checks = services.validate_pdf(final)
    assert [check.kind for check in checks] == ["signature", "signature", "document_timestamp"]
    assert [check.revision for check in checks] == [1, 2, 3]
    for check in checks:
        assert check.ok, check
        assert check.intact and check.valid and check.trusted and check.timestamp_ok and check.covers_revision
    assert [check.fingerprint for check in checks[:2]] == [first.fingerprint, second.fingerprint]
    assert checks[0].reason == "Procès-verbal" and checks[0].location == "Beaune"
    assert checks[0].changes_after == "signatures" and not checks[0].covers_file
    assert checks[2].covers_file and checks[2].changes_after == "none"
    assert checks[0].timestamp <= checks[1].timestamp <= checks[2].timestamp


def test_pdfsig_validates_the_signatures(signed, tmp_path):
    *_, final, _first, _second = signed
    path = tmp_path / "signe.pdf"
    path.write_bytes(final)
    blocks = signature_blocks(pdfsig(path))
    assert len(blocks) == 3
    for block, name in zip(blocks[:2], ["Paul Président", "Marie Membre"], strict=True):
        assert f"Signer Certificate Common Name: {name}" in block
        assert "Signature Type: ETSI.CAdES.detached" in block
        assert "Signature Validation: Signature is Valid." in block
        assert "Not total document signed" in block  # each covers its revision; later ones follow
    # The document timestamp: listed, covering the whole file. (poppler 22 does not verify RFC 3161
    # document timestamps: "Unable to validate this type of signature"; pyHanko does, above.)
    assert "Signature Field Name: Horodatage" in blocks[2]
    assert "Total document signed" in blocks[2]


def test_a_modified_file_fails_both_checks(signed, tmp_path):
    *_, final, _first, _second = signed
    position = final.index(b"12 500") if b"12 500" in final else None
    tampered = bytearray(final)
    # Change one byte inside the first revision's content stream (compressed: any byte of it).
    start = final.index(b"stream\n") + 20 if position is None else position
    tampered[start] ^= 0x01
    checks = pades.validate(bytes(tampered), trust_roots=services.trust_roots())
    assert not checks[0].intact and not checks[0].ok
    path = tmp_path / "modifie.pdf"
    path.write_bytes(bytes(tampered))
    first_block = signature_blocks(pdfsig(path))[0]
    assert "Signature is Valid." not in first_block


def test_untrusted_root_is_reported_not_hidden(signed):
    *_, final, _first, _second = signed
    checks = pades.validate(final, trust_roots=[])
    assert [check.intact and check.valid for check in checks[:2]] == [True, True]
    assert [check.trusted for check in checks[:2]] == [False, False]
    assert not any(check.ok for check in checks[:2])


def test_not_a_pdf_is_refused_clearly(document):
    certificate = services.certificate_issue(user=UserFactory(), passphrase=PASSPHRASE)
    with pytest.raises(DomainError) as caught:
        services.sign_pdf(b"pas un pdf", certificate=certificate, secret=PASSPHRASE, field_name="S")
    assert caught.value.code == "bad_pdf"
    with pytest.raises(DomainError):
        services.validate_pdf(b"pas un pdf")
