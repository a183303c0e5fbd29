"""Verification of documents signed elsewhere (issue 7): PAdES, CAdES (detached or enveloping) and XAdES.

`verify(data, filename=..., detached=None) -> Report` finds the format and checks every signature:

- **PAdES** (a PDF): each signature and document timestamp, with pyHanko (integrity of the signed byte
  range, the signature itself, what was appended after it: a change of content after a signature is an
  integrity failure of that signature, as the document shown is no longer the one signed).
- **CAdES** (a `.p7s`/`.p7m`, DER or PEM): with pyHanko's CMS validation, over `detached` (the file the
  signature is about) or the content the signature encloses (enveloping `.p7m`).
- **XAdES** (XML with a `ds:Signature`, enveloped or enveloping): with signxml's `XAdESVerifier` (the
  references, the signature value, the SigningCertificate digest), the chain checked here with
  pyhanko-certvalidator like the others.

For every signature the `SignatureResult` tells the signer and their certificate, the signing time claimed
by the signer and the one of a signature timestamp when there is one, `integrity_ok`, the certificate's
status at signing time (`valid`, `expired`, `not_yet_valid`, `revoked`, `unknown`), `trusted` (its chain
reaches one of the platform's roots, `signatures.services.trust_roots()`, or a root of the system's list;
offline: no CRL/OCSP fetched, a revocation is known only when the platform revoked the certificate
itself or when the signature carries it), and `qualified` when the certificate declares the eIDAS
QcCompliance statement (declared, not checked against the European trusted lists).

The signing time used for the certificate status is the signature timestamp's when it is intact, valid and
trusted, else the time the signer claims (shown as such), else unknown.

Nothing is stored. Bad input never raises: a `Report` with a clear message (except `DomainError` for an
empty file or one over `MAX_SIZE`). `Report.as_dict()` is JSON-serialisable (contracts keep it).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import logging
import ssl
from dataclasses import asdict, dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

from asn1crypto import cms, core, pem
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError
from ebourgogne.signatures import certificates, pades

logger = logging.getLogger(__name__)

MAX_SIZE = 50 * 1024 * 1024  # announced on the page
PADES, CADES, XADES = "PAdES", "CAdES", "XAdES"
STATUSES = ("valid", "expired", "not_yet_valid", "revoked", "unknown")
STATUS_LABELS = {
    "valid": gettext_lazy("valide"),
    "expired": gettext_lazy("expiré"),
    "not_yet_valid": gettext_lazy("pas encore valide"),
    "revoked": gettext_lazy("révoqué"),
    "unknown": gettext_lazy("inconnu"),
}
QC_STATEMENTS_OID = "1.3.6.1.5.5.7.1.3"
QC_COMPLIANCE_OID = "0.4.0.1862.1.1"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
XMLDSIG_NS = "http://www.w3.org/2000/09/xmldsig#"
XADES_NS = "http://uri.etsi.org/01903/v1.3.2#"


# --- The report ----------------------------------------------------------------------------------------


@dataclass
class CertificateInfo:
    subject: str
    issuer: str
    serial: str  # hexadecimal
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str  # SHA-256 of the DER, hexadecimal


@dataclass
class SignatureResult:
    kind: str = "signature"  # "signature" | "document_timestamp"
    field_name: str = ""  # the PDF signature field, or the XML signature's Id
    signer_name: str = ""
    certificate: CertificateInfo | None = None
    claimed_signing_time: dt.datetime | None = None  # what the signer's software wrote
    timestamp_time: dt.datetime | None = None  # from a signature timestamp (RFC 3161), if any
    timestamp_ok: bool = False  # that timestamp is intact, valid and trusted
    signing_time: dt.datetime | None = None  # the time used for the certificate status
    signing_time_source: str = ""  # "timestamp" | "claimed" | ""
    integrity_ok: bool = False
    certificate_status_at_signing: str = "unknown"
    trusted: bool = False
    trust_anchor: str = ""
    qualified: bool = False
    content_is_zip: bool = False
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Intact, made with a certificate valid at signing time, whose chain is trusted."""
        return self.integrity_ok and self.certificate_status_at_signing == "valid" and self.trusted

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.certificate_status_at_signing, self.certificate_status_at_signing))

    @property
    def qualified_label(self) -> str:
        return _("qualifié (eIDAS, déclaré par le certificat)") if self.qualified else _("non qualifié")


@dataclass
class Report:
    format: str = ""  # PAdES | CAdES | XAdES | "" (not recognised)
    filename: str = ""
    signatures: list[SignatureResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    checked_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return bool(self.signatures) and not self.errors and all(item.ok for item in self.signatures)

    def as_dict(self) -> dict[str, Any]:
        def plain(value: Any) -> Any:
            if isinstance(value, dt.datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {key: plain(item) for key, item in value.items()}
            if isinstance(value, list):
                return [plain(item) for item in value]
            return value

        data = plain(asdict(self))
        data["ok"] = self.ok
        for item, result in zip(data["signatures"], self.signatures, strict=True):
            item["ok"] = result.ok
            item["qualified_label"] = str(result.qualified_label)
            item["status_label"] = result.status_label
        return data


# --- Certificates --------------------------------------------------------------------------------------


class _QcStatement(core.Sequence):
    _fields = [("statement_id", core.ObjectIdentifier), ("statement_info", core.Any, {"optional": True})]


class _QcStatements(core.SequenceOf):
    _child_spec = _QcStatement


def is_qualified(certificate: x509.Certificate) -> bool:
    """The certificate declares the eIDAS QcCompliance statement (ETSI EN 319 412-5)."""
    try:
        extension = certificate.extensions.get_extension_for_oid(x509.ObjectIdentifier(QC_STATEMENTS_OID))
    except (x509.ExtensionNotFound, ValueError):
        return False
    raw = getattr(extension.value, "value", None)
    if raw is None:  # a cryptography version that parses it one day
        raw = extension.value.public_bytes()
    try:
        statements = _QcStatements.load(bytes(raw))
        return any(statement["statement_id"].dotted == QC_COMPLIANCE_OID for statement in statements)
    except Exception:  # a malformed extension: not a qualified declaration  # noqa: BLE001
        return False


def _common_name(certificate: x509.Certificate) -> str:
    try:
        names = certificate.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    except ValueError:
        names = []
    if names and isinstance(names[0].value, str):
        return names[0].value
    return certificates.details(certificate).subject


def _from_asn1(certificate: asn1_x509.Certificate) -> x509.Certificate:
    return x509.load_der_x509_certificate(certificate.dump())


def _certificate_info(certificate: x509.Certificate) -> CertificateInfo:
    found = certificates.details(certificate)
    return CertificateInfo(
        subject=found.subject,
        issuer=found.issuer,
        serial=found.serial,
        not_before=found.not_before,
        not_after=found.not_after,
        fingerprint=found.fingerprint,
    )


@functools.lru_cache(maxsize=1)
def system_roots() -> tuple[asn1_x509.Certificate, ...]:
    """The roots of the system's list (Debian's ca-certificates), read once."""
    paths = ssl.get_default_verify_paths()
    candidates = [paths.cafile, paths.openssl_cafile, "/etc/ssl/certs/ca-certificates.crt"]
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            roots = []
            for _type, _headers, der in pem.unarmor(Path(candidate).read_bytes(), multiple=True):
                try:
                    roots.append(asn1_x509.Certificate.load(der))
                except Exception:  # noqa: BLE001, S112 - one unreadable entry does not spoil the list
                    continue
            return tuple(roots)
    return ()


def _trust_roots() -> list[asn1_x509.Certificate]:
    from ebourgogne.signatures import services

    return [pades.to_asn1(root) for root in services.trust_roots()] + list(system_roots())


def _timestamp_roots() -> list[asn1_x509.Certificate]:
    from ebourgogne.timestamping import authority as tsa

    try:
        return list(tsa.get_authority().roots()) + list(system_roots())
    except Exception:  # an external authority unreachable: the system's roots still serve  # noqa: BLE001
        logger.warning("timestamp authority roots unavailable for verification", exc_info=True)
        return list(system_roots())


def _context(roots: list[asn1_x509.Certificate], *, moment: dt.datetime | None = None, others=()):  # noqa: ANN001, ANN202
    from pyhanko_certvalidator import ValidationContext

    kwargs: dict[str, Any] = {"trust_roots": roots, "allow_fetching": False, "revocation_mode": "soft-fail"}
    if others:
        kwargs["other_certs"] = list(others)
    if moment is not None:
        kwargs["moment"] = moment
        kwargs["best_signature_time"] = moment
    return ValidationContext(**kwargs)


def _usage():  # noqa: ANN202
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    return KeyUsageConstraints(key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False)


def _anchor_name(path: Any) -> str:
    if path is None:
        return ""
    for getter in (
        lambda: path.trust_anchor.authority.name.human_friendly,
        lambda: path.first.subject.human_friendly,
    ):
        try:
            return str(getter())
        except Exception:  # noqa: BLE001, S112 - the path's shape differs between versions
            continue
    return ""


def _platform_revocation(fingerprint: str) -> dt.datetime | None:
    """When the platform revoked the certificate (its owner withdrew it), if it did."""
    from ebourgogne.signatures.models import SigningCertificate

    revoked = (
        SigningCertificate.objects.filter(fingerprint=fingerprint, revoked_at__isnull=False)
        .order_by("revoked_at")
        .values_list("revoked_at", flat=True)
        .first()
    )
    return revoked


def _when(value: dt.datetime) -> str:
    from django.utils.formats import date_format

    from ebourgogne.core.clock import PARIS

    return date_format(value.astimezone(PARIS), "DATETIME_FORMAT")


def _finish(result: SignatureResult, certificate: x509.Certificate, *, revoked_at: dt.datetime | None = None) -> None:
    """Fill the certificate, the signing time used and the status at signing time, with their messages."""
    result.certificate = _certificate_info(certificate)
    result.signer_name = result.signer_name or _common_name(certificate)
    result.qualified = is_qualified(certificate)
    if result.timestamp_time is not None and result.timestamp_ok:
        result.signing_time, result.signing_time_source = result.timestamp_time, "timestamp"
    elif result.claimed_signing_time is not None:
        result.signing_time, result.signing_time_source = result.claimed_signing_time, "claimed"
        if result.timestamp_time is not None:
            result.messages.append(
                _("L'horodatage de la signature n'a pas pu être vérifié : l'heure retenue est celle déclarée.")
            )
        else:
            result.messages.append(
                _(
                    "La signature n'est pas horodatée : l'heure de signature est celle déclarée par le logiciel "
                    "du signataire, elle n'est pas prouvée."
                )
            )
    platform_revoked = _platform_revocation(result.certificate.fingerprint)
    revocations = [moment for moment in (revoked_at, platform_revoked) if moment is not None]
    when = result.signing_time
    info = result.certificate
    if when is None:
        status = "unknown"
        result.messages.append(
            _("L'heure de signature est inconnue : l'état du certificat au moment de la signature ne peut être établi.")
        )
    elif revocations and min(revocations) <= when:
        status = "revoked"
        result.messages.append(
            _("Le certificat avait été révoqué le %(date)s, avant la signature.") % {"date": _when(min(revocations))}
        )
    elif when < info.not_before:
        status = "not_yet_valid"
        result.messages.append(
            _("Le certificat n'était pas encore valide au moment de la signature (valide à partir du %(date)s).")
            % {"date": _when(info.not_before)}
        )
    elif when > info.not_after:
        status = "expired"
        result.messages.append(
            _("Le certificat avait expiré le %(date)s, avant la signature.") % {"date": _when(info.not_after)}
        )
    else:
        status = "valid"
    result.certificate_status_at_signing = status
    if not result.trusted:
        result.messages.append(
            _(
                "La chaîne du certificat n'aboutit à aucune autorité reconnue par la plateforme : l'identité du "
                "signataire n'est pas garantie."
            )
        )
    if result.content_is_zip:
        result.messages.append(
            _(
                "Le contenu signé est une archive ZIP : la signature porte sur l'archive, pas sur chacun des "
                "fichiers qu'elle contient."
            )
        )


# --- Entry point ---------------------------------------------------------------------------------------


def _check_size(data: Any) -> bytes:
    data = bytes(data or b"")
    if not data:
        raise DomainError(_("Ce fichier est vide."), code="empty")
    if len(data) > MAX_SIZE:
        raise DomainError(
            _("Ce fichier dépasse la taille maximale de %(max)d Mo.") % {"max": MAX_SIZE // (1024 * 1024)},
            code="too_large",
        )
    return data


def _is_pdf(data: bytes) -> bool:
    return b"%PDF-" in data[:1024]


def _is_xml(data: bytes) -> bool:
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"<")


def _cms(data: bytes) -> cms.SignedData | None:
    """The SignedData of a CMS file (DER, PEM or bare base64), or None when it is not one."""
    candidates = [data]
    if pem.detect(data):
        try:
            candidates.insert(0, pem.unarmor(data)[2])
        except ValueError:
            pass
    elif data[:1] != b"\x30":
        try:
            candidates.append(base64.b64decode(b"".join(data.split()), validate=True))
        except (binascii.Error, ValueError):
            pass
    for candidate in candidates:
        try:
            info = cms.ContentInfo.load(candidate)
            if info["content_type"].native != "signed_data":
                continue
            signed = info["content"]
            signed["signer_infos"].native  # noqa: B018 - parse now: garbage fails here
            return signed
        except Exception:  # noqa: BLE001, S112 - asn1crypto raises many kinds on garbage
            continue
    return None


def verify(data: bytes, *, filename: str, detached: bytes | None = None) -> Report:
    """Check the signatures of `data` (a signed PDF, a CMS signature or a signed XML); `detached` is the
    file a detached CAdES signature is about."""
    data = _check_size(data)
    if detached is not None and len(detached) == 0:
        detached = None
    if detached is not None:
        detached = _check_size(detached)
    report = Report(filename=str(filename or "")[:255], checked_at=clock.now())
    try:
        if detached is not None and _cms(data) is None:
            if _cms(detached) is None:
                report.errors.append(
                    _(
                        "Aucun des deux fichiers n'est une signature détachée CAdES (.p7s) : pour un PDF ou un XML "
                        "signé, déposez le document seul."
                    )
                )
                return report
            data, detached = detached, data  # the two files given the other way round
        if _is_pdf(data) and detached is None:
            report.format = PADES
            _verify_pdf(data, report)
        elif (signed := _cms(data)) is not None:
            report.format = CADES
            _verify_cms(signed, detached, report)
        elif _is_xml(data):
            report.format = XADES
            _verify_xml(data, report)
        elif data.startswith(ZIP_MAGIC):
            report.errors.append(
                _(
                    "Ce fichier est une archive ZIP, pas une signature. Signer une archive ne signe pas les fichiers "
                    "qu'elle contient : déposez le document signé (PDF, XML) ou la signature (.p7s) avec son fichier."
                )
            )
        else:
            report.errors.append(
                _(
                    "Ce fichier n'est ni un PDF signé, ni une signature CAdES (.p7s, .p7m), ni un XML signé (XAdES) : "
                    "aucune signature n'a pu y être lue."
                )
            )
    except DomainError as error:
        report.errors.append(str(error.message))
    except Exception:  # never a 500 on a file from outside: the report says it could not be read
        logger.warning("signature verification failed on %r", filename, exc_info=True)
        report.errors.append(
            _("Le fichier n'a pas pu être analysé : il est endommagé ou d'un format de signature non pris en charge.")
        )
    if not report.errors and not report.signatures:
        report.errors.append(_("Aucune signature n'a été trouvée dans ce fichier."))
    return report


# --- PAdES ---------------------------------------------------------------------------------------------


def _verify_pdf(data: bytes, report: Report) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import async_validate_pdf_signature, async_validate_pdf_timestamp
    from pyhanko.sign.validation.status import SignatureCoverageLevel

    from ebourgogne.timestamping import authority as tsa

    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as error:  # a damaged PDF
        raise DomainError(_("Le document PDF est illisible."), code="bad_pdf") from error
    if not embedded:
        report.errors.append(_("Ce PDF ne contient aucune signature électronique."))
        return
    roots, stamp_roots = _trust_roots(), _timestamp_roots()

    async def check(signature) -> tuple:  # noqa: ANN001
        result = SignatureResult(field_name=str(signature.field_name or ""))
        revoked_at = None
        if signature.sig_object_type == "/DocTimeStamp":
            result.kind = "document_timestamp"
            status = await async_validate_pdf_timestamp(signature, validation_context=_context(stamp_roots))
            result.timestamp_time = status.timestamp
            result.timestamp_ok = bool(status.intact and status.valid and status.trusted)
        else:
            signed_data = signature.signed_data
            signer_info = signed_data["signer_infos"][0]
            result.claimed_signing_time = _pdf_claimed_time(signature, signer_info)
            moment = _tst_time(signer_info) or result.claimed_signing_time
            status = await async_validate_pdf_signature(
                signature,
                signer_validation_context=_context(roots, moment=moment),
                ts_validation_context=_context(stamp_roots),
                key_usage_settings=_usage(),
            )
            stamp = status.timestamp_validity
            if stamp is not None:
                result.timestamp_time = stamp.timestamp
                result.timestamp_ok = bool(stamp.intact and stamp.valid and stamp.trusted)
            revoked_at = _revocation_date(status)
            name = signature.sig_object.get("/Name")
            result.signer_name = str(name) if name else ""
        result.trusted = bool(status.trusted)
        result.trust_anchor = _anchor_name(status.validation_path)
        result.integrity_ok = bool(status.intact and status.valid)
        if not status.intact:
            result.messages.append(
                _("Le document a été modifié après la signature : son contenu ne correspond plus à ce qui a été signé.")
            )
        elif not status.valid:
            result.messages.append(_("La valeur de la signature est incorrecte (signature invalide)."))
        changes = pades._changes(status)  # noqa: SLF001 - the same reading of pyHanko's diff as the signing side
        coverage = status.coverage
        if result.integrity_ok and changes == "content":
            result.integrity_ok = False
            result.messages.append(
                _(
                    "Le contenu du document a été modifié après cette signature (mise à jour ajoutée ensuite) : "
                    "le document affiché n'est plus celui qui a été signé."
                )
            )
        elif result.integrity_ok and (coverage is None or coverage < SignatureCoverageLevel.ENTIRE_REVISION):
            result.integrity_ok = False
            result.messages.append(_("La signature ne couvre pas l'ensemble du document tel qu'il était alors."))
        elif changes == "signatures":
            result.messages.append(_("D'autres signatures ou horodatages ont été ajoutés après celle-ci (normal)."))
        if result.kind == "document_timestamp":
            result.signing_time, result.signing_time_source = result.timestamp_time, "timestamp"
        return result, _from_asn1(status.signing_cert), revoked_at

    async def check_all() -> list:
        return [await check(signature) for signature in embedded]

    for result, certificate, revoked_at in tsa.run_async(check_all):  # the database is read outside the loop
        _finish(result, certificate, revoked_at=revoked_at)
        report.signatures.append(result)


def _pdf_claimed_time(signature, signer_info) -> dt.datetime | None:  # noqa: ANN001
    from pyhanko.sign.validation.generic_cms import extract_self_reported_ts

    try:
        claimed = extract_self_reported_ts(signer_info)
    except Exception:  # noqa: BLE001
        claimed = None
    if claimed is None:
        try:
            claimed = signature.self_reported_timestamp
        except Exception:  # noqa: BLE001
            claimed = None
    return claimed


# --- CAdES ---------------------------------------------------------------------------------------------


def _tst_time(signer_info: cms.SignerInfo) -> dt.datetime | None:
    """The time of the signature timestamp token, unverified (to validate the chain at that moment)."""
    try:
        attributes = signer_info["unsigned_attrs"]
        if attributes.native is None:
            return None
        for attribute in attributes:
            if attribute["type"].native == "signature_time_stamp_token":
                token = attribute["values"][0]
                return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
    except Exception:  # noqa: BLE001
        return None
    return None


def _revocation_date(status: Any) -> dt.datetime | None:
    details = getattr(status, "revocation_details", None)
    return getattr(details, "revocation_date", None) if details is not None else None


def _verify_cms(signed: cms.SignedData, detached: bytes | None, report: Report) -> None:
    from pyhanko.sign.validation.generic_cms import async_validate_detached_cms, extract_self_reported_ts

    from ebourgogne.timestamping import authority as tsa

    encapsulated = signed["encap_content_info"]["content"]
    if detached is not None:
        content: bytes = detached
    elif encapsulated.native is not None:
        content = bytes(encapsulated.native) if isinstance(encapsulated.native, bytes) else encapsulated.contents
    else:
        report.errors.append(
            _(
                "Cette signature CAdES est détachée : elle ne contient pas le document. Déposez aussi le fichier "
                "signé pour la vérifier."
            )
        )
        return
    signer_infos = list(signed["signer_infos"])
    if not signer_infos:
        return
    roots, stamp_roots = _trust_roots(), _timestamp_roots()
    others = (
        [item.chosen for item in signed["certificates"] if item.name == "certificate"]
        if signed["certificates"].native
        else []
    )
    is_zip = content.startswith(ZIP_MAGIC)

    async def check(signer_info: cms.SignerInfo) -> tuple:
        one = signed.copy()
        one["signer_infos"] = cms.SignerInfos([signer_info.copy()])
        if encapsulated.native is not None:
            # Enveloping (.p7m): checked as detached over the content it carries. The content is not itself
            # signed (its digest is, in the signed attributes), so taking it out changes nothing.
            one["encap_content_info"] = cms.ContentInfo(
                {"content_type": signed["encap_content_info"]["content_type"].native}
            )
        result = SignatureResult(content_is_zip=is_zip)
        try:
            result.claimed_signing_time = extract_self_reported_ts(signer_info)
        except Exception:  # noqa: BLE001
            result.claimed_signing_time = None
        moment = _tst_time(signer_info) or result.claimed_signing_time
        status = await async_validate_detached_cms(
            content,
            one,
            signer_validation_context=_context(roots, moment=moment, others=others),
            ts_validation_context=_context(stamp_roots, others=others),
            key_usage_settings=_usage(),
        )
        stamp = status.timestamp_validity
        if stamp is not None:
            result.timestamp_time = stamp.timestamp
            result.timestamp_ok = bool(stamp.intact and stamp.valid and stamp.trusted)
        result.trusted = bool(status.trusted)
        result.trust_anchor = _anchor_name(status.validation_path)
        result.integrity_ok = bool(status.intact and status.valid)
        if not status.intact:
            result.messages.append(
                _(
                    "Le fichier ne correspond pas à la signature : il a été modifié après la signature, ou ce n'est "
                    "pas le fichier signé."
                )
            )
        elif not status.valid:
            result.messages.append(_("La valeur de la signature est incorrecte (signature invalide)."))
        return result, _from_asn1(status.signing_cert), _revocation_date(status)

    async def check_all() -> list:
        return [await check(signer_info) for signer_info in signer_infos]

    for result, certificate, revoked_at in tsa.run_async(check_all):  # the database is read outside the loop
        _finish(result, certificate, revoked_at=revoked_at)
        report.signatures.append(result)


# --- XAdES ---------------------------------------------------------------------------------------------


def _parse_xml(data: bytes):  # noqa: ANN202
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, remove_comments=False)
    try:
        return etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as error:
        raise DomainError(_("Ce fichier XML est mal formé : %(error)s") % {"error": error}, code="bad_xml") from error


def _xml_certificates(signature) -> list[x509.Certificate]:  # noqa: ANN001
    found = []
    for node in signature.iterfind(f"{{{XMLDSIG_NS}}}KeyInfo/{{{XMLDSIG_NS}}}X509Data/{{{XMLDSIG_NS}}}X509Certificate"):
        try:
            found.append(x509.load_der_x509_certificate(base64.b64decode("".join((node.text or "").split()))))
        except (ValueError, binascii.Error):
            continue
    return found


def _xml_time(signature, tag: str) -> dt.datetime | None:  # noqa: ANN001
    node = signature.find(f".//{{{XADES_NS}}}{tag}")
    if node is None or not (node.text or "").strip():
        return None
    try:
        value = dt.datetime.fromisoformat(node.text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _chain_check(certificate: x509.Certificate, others: list[x509.Certificate], moment: dt.datetime | None):  # noqa: ANN202
    """(trusted, anchor name) for `certificate` at `moment`, with pyhanko-certvalidator."""
    from pyhanko_certvalidator import CertificateValidator

    from ebourgogne.timestamping import authority as tsa

    validator = CertificateValidator(
        pades.to_asn1(certificate),
        intermediate_certs=[pades.to_asn1(item) for item in others],
        validation_context=_context(_trust_roots(), moment=moment),
    )

    async def run():  # noqa: ANN202
        return await validator.async_validate_usage({"digital_signature"}, extended_key_usage=None)

    try:
        path = tsa.run_async(run)
    except Exception:  # not trusted, expired at that moment, or a broken chain  # noqa: BLE001
        try:
            validator = CertificateValidator(
                pades.to_asn1(certificate),
                intermediate_certs=[pades.to_asn1(item) for item in others],
                validation_context=_context(_trust_roots(), moment=moment),
            )
            path = tsa.run_async(lambda: validator.async_validate_usage({"non_repudiation"}, extended_key_usage=None))
        except Exception:  # noqa: BLE001
            return False, ""
    return True, _anchor_name(path)


def _verify_xml(data: bytes, report: Report) -> None:
    from lxml import etree
    from signxml import InvalidInput, InvalidSignature
    from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

    root = _parse_xml(data)
    signatures = list(root.iter(f"{{{XMLDSIG_NS}}}Signature"))
    if not signatures:
        report.errors.append(_("Ce fichier XML ne contient aucune signature (élément ds:Signature)."))
        return
    if len(signatures) > 1:
        report.errors.append(
            _("Ce fichier XML contient %(count)d signatures : seule la première a été vérifiée.")
            % {"count": len(signatures)}
        )
    signature = signatures[0]
    result = SignatureResult(field_name=str(signature.get("Id") or ""))
    chain = _xml_certificates(signature)
    if not chain:
        report.errors.append(_("La signature XML ne contient pas le certificat du signataire (X509Certificate)."))
        return
    if signature.find(f".//{{{XADES_NS}}}SignedProperties") is None:
        result.messages.append(
            _("Ce n'est pas une signature XAdES (pas de propriétés signées) : c'est une signature XML simple.")
        )
    result.claimed_signing_time = _xml_time(signature, "SigningTime")
    if signature.find(f".//{{{XADES_NS}}}SignatureTimeStamp") is not None:
        result.messages.append(_("L'horodatage XAdES de cette signature n'est pas vérifié par la plateforme."))
    # The certificate whose key made the signature: signxml checks the value with it, the references, and
    # that the signed SigningCertificate digest names it. Its dates are checked below, at signing time.
    signer_certificate, failure = None, None
    for candidate in chain:
        config = XAdESSignatureConfiguration(
            expect_references=True,
            verification_time=candidate.not_valid_before_utc + dt.timedelta(seconds=1),
        )
        try:
            XAdESVerifier().verify(
                etree.tostring(root), x509_cert=candidate, expect_config=config, validate_schema=False
            )
        except InvalidSignature as error:
            failure = failure or error
            continue
        except InvalidInput as error:
            failure = error
            signer_certificate = candidate
            break
        signer_certificate, failure = candidate, None
        break
    if signer_certificate is None:
        signer_certificate = chain[0]
    if failure is None:
        result.integrity_ok = True
    else:
        logger.info("XAdES signature refused: %s", failure)
        result.messages.append(
            _(
                "La signature XML n'est pas valide : le document ou ses propriétés signées ont été modifiés après "
                "la signature, ou la signature est endommagée."
            )
        )
    others = [item for item in chain if item is not signer_certificate]
    result.trusted, result.trust_anchor = _chain_check(signer_certificate, others, result.claimed_signing_time)
    _finish(result, signer_certificate)
    report.signatures.append(result)
