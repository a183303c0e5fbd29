"""PAdES signatures with pyHanko (no database): signing, document timestamps, validation.

- `sign(pdf_bytes, signer=..., field_name=..., ...)`: a PAdES baseline B-T signature (SubFilter
  ETSI.CAdES.detached, SHA-256, the signing certificate in a signing-certificate-v2 attribute) with an
  RFC 3161 signature timestamp from the platform's authority (`timestamping.authority`: the same one as
  the bid receipts). It is written as an **incremental update**: the bytes before are never touched, so
  every earlier signature stays valid and still covers exactly its own revision. The signature field is
  invisible (no appearance): the minutes list their signers in the text, and PDF readers show the
  signatures in their signature panel. (A visible stamp would need a font pyHanko can embed, which needs
  HarfBuzz; the core fonts would break "every font embedded".)
- `add_document_timestamp(pdf_bytes)`: a PAdES document timestamp (SubFilter ETSI.RFC3161), appended
  after the last signature: it proves the whole file, every signature included, existed at that time.
- `validate(pdf_bytes, trust_roots=...)`: every signature and document timestamp of the file, checked
  by pyHanko: integrity (the digest of its byte range), the signature itself, the chain of the signer's
  certificate to one of `trust_roots` (offline: no CRL/OCSP fetched), the signature timestamp (its
  chain to the timestamp authority's root), what it covers (its whole revision) and what came after it
  (only signatures and timestamps: no change to the content).

Trust (documented in docs/guide/certificats.md): `trust_roots` are chosen by the caller
(`signatures.services.validate_pdf`): the platform signing root, and the roots of the certificates
members uploaded (the chain carried by their PKCS#12, checked at upload). A signature whose chain does
not reach one of them is reported "intact but not trusted", never hidden.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from io import BytesIO

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.utils.translation import gettext as _
from pyhanko.keys.internal import translate_pyca_cryptography_key_to_asn1
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.timestamps import TimeStamper, TimestampRequestError
from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from ebourgogne.core.errors import DomainError
from ebourgogne.timestamping import authority as tsa

HASH = "sha256"
TIMESTAMP_FIELD = "Horodatage"


def to_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def make_signer(private_key, certificate: x509.Certificate, chain: list[x509.Certificate]) -> signers.SimpleSigner:  # noqa: ANN001
    """pyHanko's signer for a key and its certificate; the chain is embedded in the signature."""
    return signers.SimpleSigner(
        signing_key=translate_pyca_cryptography_key_to_asn1(private_key),
        signing_cert=to_asn1(certificate),
        cert_registry=SimpleCertificateStore.from_certs([to_asn1(item) for item in chain]),
    )


class AuthorityTimeStamper(TimeStamper):
    """pyHanko's TimeStamper over the platform's configured authority (embedded or external): the tokens
    in signatures come from the same authority as every other timestamp of the platform."""

    def __init__(self, authority: tsa.Authority | None = None) -> None:
        super().__init__(include_nonce=False)
        self.authority = authority or tsa.get_authority()
        self.cert_registry.register_multiple(self.authority.chain())

    async def async_timestamp(self, message_digest: bytes, md_algorithm: str) -> cms.ContentInfo:
        if md_algorithm.lower() != HASH:
            raise TimestampRequestError(f"only {HASH} digests are timestamped")
        try:
            token = self.authority.timestamp(bytes(message_digest))
        except tsa.TimestampError as error:
            raise TimestampRequestError(str(error)) from error
        return cms.ContentInfo.load(token)


def _unavailable(error: Exception) -> DomainError:
    return DomainError(
        _(
            "L'autorité d'horodatage n'a pas répondu : la signature n'a pas été faite, le document est inchangé. "
            "Réessayez dans quelques instants. (%(error)s)"
        )
        % {"error": error},
        code="timestamp_unavailable",
    )


def _writer(pdf_bytes: bytes) -> IncrementalPdfFileWriter:
    try:
        return IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    except Exception as error:  # pyHanko raises PdfReadError and others on a damaged file
        raise DomainError(_("Le document PDF est illisible : il ne peut pas être signé."), code="bad_pdf") from error


def sign(
    pdf_bytes: bytes,
    *,
    signer: signers.SimpleSigner,
    field_name: str,
    reason: str = "",
    location: str = "",
    signer_name: str = "",
    timestamper: TimeStamper | None = None,
) -> bytes:
    """`pdf_bytes` with one more PAdES B-T signature in a new invisible field `field_name`, appended as an
    incremental update."""
    writer = _writer(pdf_bytes)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        md_algorithm=HASH,
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason or None,
        location=location or None,
        name=signer_name or None,
    )
    pdf_signer = signers.PdfSigner(
        meta,
        signer=signer,
        timestamper=timestamper or AuthorityTimeStamper(),
        new_field_spec=fields.SigFieldSpec(sig_field_name=field_name),
    )
    try:
        output = tsa.run_async(pdf_signer.async_sign_pdf, writer)
    except TimestampRequestError as error:
        raise _unavailable(error) from error
    except SigningError as error:
        raise DomainError(
            _("La signature n'a pas pu être faite : %(error)s") % {"error": error}, code="signing_failed"
        ) from error
    return output.getvalue()


def add_document_timestamp(pdf_bytes: bytes, *, field_name: str = TIMESTAMP_FIELD) -> bytes:
    """`pdf_bytes` with a PAdES document timestamp appended (incremental update)."""
    writer = _writer(pdf_bytes)
    stamper = signers.PdfTimeStamper(AuthorityTimeStamper(), field_name=field_name)
    try:
        output = tsa.run_async(stamper.async_timestamp_pdf, writer, HASH)
    except TimestampRequestError as error:
        raise _unavailable(error) from error
    return output.getvalue()


@dataclass(frozen=True)
class SignatureCheck:
    """One signature or document timestamp of a PDF, as checked by pyHanko."""

    field_name: str
    kind: str  # "signature" | "document_timestamp"
    revision: int  # the revision it signs (0 = the original document)
    signer: str  # the signer's (or the timestamp authority's) certificate subject
    fingerprint: str  # SHA-256 of the signer's certificate
    intact: bool  # the digest of the signed bytes matches
    valid: bool  # the cryptographic signature is correct
    trusted: bool  # the certificate chains to one of the trust roots
    trust_problem: str
    covers_revision: bool  # covers its whole revision (the file as it was when signed)
    covers_file: bool  # covers the whole file (nothing appended after it)
    changes_after: str  # what was appended after it: "none", "signatures" or "content"
    timestamp: dt.datetime | None  # the signature timestamp (or the document timestamp) time
    timestamp_ok: bool  # that timestamp is intact, valid and trusted
    reason: str
    location: str
    name: str

    @property
    def ok(self) -> bool:
        """Intact, valid, trusted, timestamped, covering its revision, nothing but signatures after it."""
        return (
            self.intact
            and self.valid
            and self.trusted
            and self.covers_revision
            and self.timestamp_ok
            and self.changes_after in ("none", "signatures")
        )


def _changes(status) -> str:  # noqa: ANN001
    level = status.modification_level
    if level is None or status.coverage == SignatureCoverageLevel.ENTIRE_FILE:
        return "none"
    name = getattr(level, "name", str(level))
    return "signatures" if name in ("NONE", "LTA_UPDATES", "FORM_FILLING") else "content"


def _text(sig_object, key: str) -> str:  # noqa: ANN001
    value = sig_object.get(key)
    return str(value) if value is not None else ""


def validate(
    pdf_bytes: bytes,
    *,
    trust_roots: list[x509.Certificate],
    timestamp_roots: list[asn1_x509.Certificate] | None = None,
) -> list[SignatureCheck]:
    """Check every signature and document timestamp of the file, in the order they were made."""
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as error:  # a damaged PDF
        raise DomainError(_("Le document PDF est illisible."), code="bad_pdf") from error
    roots = [to_asn1(root) for root in trust_roots]
    if timestamp_roots is None:
        timestamp_roots = tsa.get_authority().roots()

    def context(anchors: list[asn1_x509.Certificate]) -> ValidationContext:
        return ValidationContext(trust_roots=anchors, allow_fetching=False, revocation_mode="soft-fail")

    usage = KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)

    async def check_all() -> list[SignatureCheck]:
        results = []
        for signature in embedded:
            sig_object = signature.sig_object
            if signature.sig_object_type == "/DocTimeStamp":
                status = await async_validate_pdf_timestamp(signature, validation_context=context(timestamp_roots))
                stamp_ok = bool(status.intact and status.valid and status.trusted)
                kind, stamp_time = "document_timestamp", status.timestamp
            else:
                status = await async_validate_pdf_signature(
                    signature,
                    signer_validation_context=context(roots),
                    ts_validation_context=context(timestamp_roots),
                    key_usage_settings=usage,
                )
                stamp = status.timestamp_validity
                stamp_ok = bool(stamp is not None and stamp.intact and stamp.valid and stamp.trusted)
                kind, stamp_time = "signature", (stamp.timestamp if stamp is not None else None)
            certificate = status.signing_cert
            coverage = status.coverage
            results.append(
                SignatureCheck(
                    field_name=signature.field_name,
                    kind=kind,
                    revision=signature.signed_revision,
                    signer=certificate.subject.human_friendly,
                    fingerprint=certificate.sha256.hex(),
                    intact=bool(status.intact),
                    valid=bool(status.valid),
                    trusted=bool(status.trusted),
                    trust_problem=str(status.trust_problem_indic or ""),
                    covers_revision=coverage is not None and coverage >= SignatureCoverageLevel.ENTIRE_REVISION,
                    covers_file=coverage == SignatureCoverageLevel.ENTIRE_FILE,
                    changes_after=_changes(status),
                    timestamp=stamp_time,
                    timestamp_ok=stamp_ok,
                    reason=_text(sig_object, "/Reason"),
                    location=_text(sig_object, "/Location"),
                    name=_text(sig_object, "/Name"),
                )
            )
        return results

    return tsa.run_async(check_all)
