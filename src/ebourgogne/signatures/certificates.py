"""Reading and checking signing certificates (no database): PKCS#12 files, validity, key usages.

The checks made when a member uploads a PKCS#12 file (`.p12`, `.pfx`), and again before each signature:

- it is a PKCS#12 structure at all (read with asn1crypto first, so that "not a PKCS#12 file" and "wrong
  password" are told apart: `cryptography` answers both with the same error);
- the password opens it; it holds one private key and the certificate of that key (same public key);
- the key is RSA (2048 bits or more) or elliptic-curve (P-256, P-384, P-521): what PAdES readers verify;
- the certificate is valid now (not expired, not yet valid: both refused with the dates);
- the certificate is not a CA certificate, and its key usage extension, when present, allows
  digitalSignature or nonRepudiation (RFC 5280 §4.2.1.3: without the extension every usage is allowed).

Every refusal is a `DomainError` with a French message (English in the catalogue) and a `code`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from asn1crypto import pkcs12 as asn1_pkcs12
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from ebourgogne.core.clock import PARIS
from ebourgogne.core.errors import DomainError

MAX_PKCS12_SIZE = 64 * 1024  # a PKCS#12 with a few certificates is a few kilobytes
MIN_RSA_BITS = 2048
CURVES = (ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)


@dataclass(frozen=True)
class Details:
    """What the platform keeps of a certificate, and shows."""

    subject: str
    issuer: str
    serial: str  # hexadecimal
    not_before: dt.datetime
    not_after: dt.datetime
    fingerprint: str  # SHA-256 of the DER, hexadecimal
    der: bytes
    self_signed: bool


@dataclass(frozen=True)
class Loaded:
    """A PKCS#12 opened: the key, its certificate, and the other certificates it carries (the chain)."""

    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)


def _name(name: x509.Name) -> str:
    """A readable distinguished name: its common name first, then the rest as RFC 4514."""
    try:
        common = [attribute.value for attribute in name.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)]
    except ValueError:
        common = []
    text = name.rfc4514_string()
    if common and isinstance(common[0], str):
        return f"{common[0]} ({text})" if text != f"CN={common[0]}" else common[0]
    return text or "—"


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def details(certificate: x509.Certificate) -> Details:
    return Details(
        subject=_name(certificate.subject)[:500],
        issuer=_name(certificate.issuer)[:500],
        serial=format(certificate.serial_number, "x"),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        fingerprint=fingerprint(certificate),
        der=certificate.public_bytes(serialization.Encoding.DER),
        self_signed=certificate.subject == certificate.issuer,
    )


def _when(value: dt.datetime) -> str:
    return date_format(value.astimezone(PARIS), "DATETIME_FORMAT")


def check_usable(certificate: x509.Certificate, *, now: dt.datetime) -> None:
    """Refuse a certificate that cannot sign now (dates, CA, key usage)."""
    if now < certificate.not_valid_before_utc:
        raise DomainError(
            _("Ce certificat n'est pas encore valide : il le sera à partir du %(date)s.")
            % {"date": _when(certificate.not_valid_before_utc)},
            code="not_yet_valid",
        )
    if now > certificate.not_valid_after_utc:
        raise DomainError(
            _("Ce certificat a expiré le %(date)s : il ne peut plus servir à signer.")
            % {"date": _when(certificate.not_valid_after_utc)},
            code="expired",
        )
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is not None and constraints.ca:
        raise DomainError(
            _("Ce certificat est celui d'une autorité de certification, pas celui d'une personne."), code="ca"
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not (usage.digital_signature or usage.content_commitment):
        raise DomainError(
            _(
                "Ce certificat ne permet pas de signer des documents (il n'a ni l'usage « signature numérique » ni "
                "l'usage « non-répudiation ») : demandez à votre autorité de certification un certificat de signature."
            ),
            code="key_usage",
        )


def check_key(private_key) -> None:  # noqa: ANN001
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < MIN_RSA_BITS:
            raise DomainError(
                _("La clé RSA de ce certificat est trop courte (%(bits)s bits, il en faut au moins %(min)s).")
                % {"bits": private_key.key_size, "min": MIN_RSA_BITS},
                code="weak_key",
            )
        return
    if isinstance(private_key, ec.EllipticCurvePrivateKey) and isinstance(private_key.curve, CURVES):
        return
    raise DomainError(
        _("Le type de clé de ce certificat n'est pas pris en charge (RSA ou courbes elliptiques P-256, P-384, P-521)."),
        code="key_type",
    )


def _public_bytes(key) -> bytes:  # noqa: ANN001
    return key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def load_pkcs12(data: bytes, password: str) -> Loaded:
    """Open a PKCS#12 file with its password. DomainError (codes not_pkcs12, wrong_password, incomplete,
    mismatch, key_type, weak_key) when it cannot serve."""
    data = bytes(data or b"")
    if not data:
        raise DomainError(_("Le fichier est vide."), code="not_pkcs12")
    if len(data) > MAX_PKCS12_SIZE:
        raise DomainError(
            _("Ce fichier est trop volumineux pour être un certificat PKCS#12 (%(max)s Ko au plus).")
            % {"max": MAX_PKCS12_SIZE // 1024},
            code="not_pkcs12",
        )
    try:
        parsed = asn1_pkcs12.Pfx.load(data)
        parsed["auth_safe"]["content_type"].native  # noqa: B018 - parse now: garbage fails here
        if parsed["version"].native != "v3":
            raise ValueError("not a PFX v3")
    except Exception as error:  # asn1crypto raises ValueError, TypeError, KeyError... on garbage
        raise DomainError(
            _("Ce fichier n'est pas un certificat au format PKCS#12 (fichier .p12 ou .pfx)."), code="not_pkcs12"
        ) from error
    attempts = [password.encode("utf-8")] if password else [b"", None]
    loaded = None
    for attempt in attempts:
        try:
            loaded = pkcs12.load_pkcs12(data, attempt)
            break
        except (ValueError, TypeError):
            continue
    if loaded is None:
        raise DomainError(
            _("Le mot de passe du certificat est incorrect (ou le fichier est endommagé)."), code="wrong_password"
        )
    if loaded.key is None or loaded.cert is None:
        raise DomainError(
            _("Ce fichier PKCS#12 ne contient pas à la fois une clé privée et son certificat."), code="incomplete"
        )
    certificate = loaded.cert.certificate
    if _public_bytes(certificate.public_key()) != _public_bytes(loaded.key.public_key()):
        raise DomainError(_("La clé privée de ce fichier ne correspond pas à son certificat."), code="mismatch")
    check_key(loaded.key)
    chain = [extra.certificate for extra in loaded.additional_certs]
    return Loaded(private_key=loaded.key, certificate=certificate, chain=chain)


def chain_pem(chain: list[x509.Certificate]) -> str:
    return "".join(item.public_bytes(serialization.Encoding.PEM).decode("ascii") for item in chain)


def load_chain(text: str) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(text.encode("ascii")) if text.strip() else []
