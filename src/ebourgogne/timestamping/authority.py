"""The platform's RFC 3161 timestamp authority (TSA): pluggable, embedded by default.

- **Embedded** (the default, `EBOURGOGNE_TSA_URL` empty): the platform signs timestamp tokens itself with
  pyHanko's timestamper and a TSA certificate of its own. On first use it generates, with `cryptography`,
  a platform root CA and a TSA certificate issued by it (critical extended key usage `timeStamping`,
  RSA 3072, SHA-256) and keeps them in `EBOURGOGNE_TSA_DIR` (default: `<data folder>/timestamping`):
  `root.pem`, `tsa.pem` (the TSA certificate, optionally followed by intermediates) and `tsa.key`
  (PKCS#8 PEM, mode 0600). The root's private key is thrown away once the TSA certificate is issued:
  nobody, the platform included, can issue another TSA certificate under that root. An organisation with
  its own PKI puts its own three files there instead.
- **External** (`EBOURGOGNE_TSA_URL` set, production): an RFC 3161 server over HTTP(S) (pyHanko's
  `HTTPTimeStamper`), with optional basic authentication (`EBOURGOGNE_TSA_USER`/`_PASSWORD`); its root
  (and intermediates) in `EBOURGOGNE_TSA_CA_FILE`, used to verify tokens and published with receipts.

`timestamp(digest)` returns the DER **TimeStampToken** (the CMS ContentInfo of RFC 3161 §2.4.2, what
`openssl ts -verify -token_in` reads), not the whole TimeStampResp: the response's status has been
checked, and the token is what proves the time. It checks the token's message imprint and nonce.
`verify(token, digest)` checks the imprint, the CMS signature and the certificate chain to a trusted root
(pyHanko's validator, offline) and returns the certified time and the TSA's name.

A TSA that does not answer raises `TimestampUnavailable`: the caller (the receipt) keeps the deposit and
asks for the token later (see `tenders.receipts`).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import datetime as dt
import fcntl
import hashlib
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import cms, keys, pem, tsp
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings
from django.utils.translation import gettext as _
from pyhanko.sign import general
from pyhanko.sign.general import simple_cms_attribute
from pyhanko.sign.timestamps import DummyTimeStamper, HTTPTimeStamper, TimestampRequestError
from pyhanko.sign.timestamps.common_utils import get_nonce, handle_tsp_response
from pyhanko.sign.validation.generic_cms import validate_tst_signed_data
from pyhanko.sign.validation.status import TimestampSignatureStatus
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

from ebourgogne.config import env

# The embedded TSA's policy: an OID derived from a UUID (ITU-T X.667, arc 2.25), no registration needed.
EMBEDDED_POLICY = "2.25.233333457925137452468704863914383013688"
HASH = "sha256"


class TimestampError(Exception):
    """A timestamp could not be obtained or does not verify. The message is translated, safe to show."""


class TimestampUnavailable(TimestampError):
    """The timestamp authority did not answer, or refused: try again later."""


class TimestampInvalid(TimestampError):
    """A token that does not prove what it should (wrong imprint, bad signature, untrusted chain)."""


@dataclass(frozen=True)
class Verified:
    time: dt.datetime  # genTime of the token, UTC
    tsa_name: str  # the TSA certificate's subject, human readable
    serial_number: int
    policy: str
    root_fingerprint: str  # SHA-256 (hex) of the root the chain ended at


def load_pem_certificates(data: bytes) -> list[asn1_x509.Certificate]:
    """Every certificate of a PEM bundle (or of one DER certificate)."""
    if not pem.detect(data):
        return [asn1_x509.Certificate.load(data)]
    return [asn1_x509.Certificate.load(der) for _type, _headers, der in pem.unarmor(data, multiple=True)]


def to_pem(certificate: asn1_x509.Certificate) -> str:
    return pem.armor("CERTIFICATE", certificate.dump()).decode()


def fingerprint(certificate: asn1_x509.Certificate) -> str:
    return hashlib.sha256(certificate.dump()).hexdigest()


def run_async(function, *args):  # noqa: ANN001, ANN002
    """Run pyHanko's coroutine `function(*args)` to completion from synchronous code, even when the calling
    thread already runs an event loop (then in a thread of its own)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(function(*args))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(function(*args))).result()


class Authority:
    """What the platform needs of a TSA."""

    name = ""

    def timestamp(self, digest: bytes) -> bytes:
        raise NotImplementedError

    def chain(self) -> list[asn1_x509.Certificate]:
        """The certificates to verify tokens offline: the TSA certificate (when known), intermediates, then
        the root last."""
        raise NotImplementedError

    def roots(self) -> list[asn1_x509.Certificate]:
        return [c for c in self.chain() if c.self_signed == "maybe" or c.self_signed == "yes"]

    def _stamp(self, stamper, digest: bytes) -> bytes:
        if len(digest) != 32:
            raise ValueError("timestamp() takes a SHA-256 digest (32 bytes)")
        try:
            token: cms.ContentInfo = run_async(stamper.async_timestamp, digest, HASH)
        except (TimestampRequestError, OSError) as error:
            raise TimestampUnavailable(
                _("L'autorité d'horodatage n'a pas répondu : %(error)s") % {"error": error}
            ) from error
        return _checked(token, digest)


def _checked(token: cms.ContentInfo, digest: bytes) -> bytes:
    """The token's DER, once it is known to timestamp `digest` (an authority could answer another)."""
    tst_info = token["content"]["encap_content_info"]["content"].parsed
    if tst_info["message_imprint"]["hashed_message"].native != digest:
        raise TimestampUnavailable(_("L'autorité d'horodatage a horodaté une autre empreinte que celle demandée."))
    return token.dump()


# -- Embedded ------------------------------------------------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "e-bourgogne"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def generate_authority_files(folder: Path, *, now: dt.datetime | None = None) -> None:
    """Create root.pem, tsa.pem and tsa.key in `folder`: a platform root CA (20 years) and a TSA
    certificate it issues (10 years, critical EKU timeStamping). The root's key is not kept."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    root_name = _name("e-bourgogne racine d'horodatage")
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * 20 + 5))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(root_ski, critical=False)
        .sign(root_key, hashes.SHA256())
    )
    tsa = (
        x509.CertificateBuilder()
        .subject_name(_name("e-bourgogne autorité d'horodatage"))
        .issuer_name(root_name)
        .public_key(tsa_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * 10 + 3))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(tsa_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_pem = tsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    files = {
        "tsa.key": key_pem,
        "tsa.pem": tsa.public_bytes(serialization.Encoding.PEM),
        "root.pem": root.public_bytes(serialization.Encoding.PEM),
    }
    for filename, content in files.items():  # root.pem last: its presence means the set is complete
        temporary = folder / f".{filename}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if filename != "tsa.key":
            os.chmod(temporary, 0o644)
        os.replace(temporary, folder / filename)


def authority_folder() -> Path:
    configured = env("EBOURGOGNE_TSA_DIR")
    return Path(configured).expanduser().resolve() if configured else Path(settings.DATA_DIR) / "timestamping"


def ensure_authority_files(folder: Path) -> None:
    """Generate the embedded TSA's files once, even with several server processes starting together."""
    if (folder / "root.pem").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (folder / "root.pem").exists():
                generate_authority_files(folder)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class EmbeddedAuthority(Authority):
    """Signs tokens in-process with pyHanko's timestamper and the platform's TSA certificate."""

    def __init__(self, folder: Path) -> None:
        ensure_authority_files(folder)
        tsa_and_intermediates = load_pem_certificates((folder / "tsa.pem").read_bytes())
        self.tsa_certificate = tsa_and_intermediates[0]
        self.intermediates = tsa_and_intermediates[1:]
        self.root = load_pem_certificates((folder / "root.pem").read_bytes())[0]
        # Loaded once: loading (and checking) an RSA key costs far more than a signature, and a deposit
        # waits for its token while it holds the consultation's lock.
        self.private_key = serialization.load_pem_private_key((folder / "tsa.key").read_bytes(), password=None)
        self.key = keys.PrivateKeyInfo.load(
            self.private_key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        self.name = self.tsa_certificate.subject.human_friendly

    def timestamp(self, digest: bytes) -> bytes:
        """Signed here and now, synchronously (no event loop: pyHanko's in-process timestamper is sync)."""
        from ebourgogne.core import clock

        if len(digest) != 32:
            raise ValueError("timestamp() takes a SHA-256 digest (32 bytes)")
        stamper = _PlatformTimeStamper(
            tsa_cert=self.tsa_certificate,
            tsa_key=self.key,
            certs_to_embed=self.intermediates,
            fixed_dt=clock.now().astimezone(dt.UTC),
            private_key=self.private_key,
        )
        nonce, request = stamper.request_cms(digest, HASH)
        token = handle_tsp_response(stamper.request_tsa_response(request), nonce)
        return _checked(token, digest)

    def chain(self) -> list[asn1_x509.Certificate]:
        return [self.tsa_certificate, *self.intermediates, self.root]


class _PlatformTimeStamper(DummyTimeStamper):
    """pyHanko's in-process timestamper, with the platform's policy OID, a stated accuracy of 1 s, and
    the TSA's key already loaded (`private_key`)."""

    def __init__(self, *args, private_key=None, **kwargs) -> None:  # noqa: ANN001, ANN002, ANN003
        super().__init__(*args, **kwargs)
        self.private_key = private_key

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt_):  # noqa: ANN001
        if self.private_key is None:
            return super()._sign_tst_info(tst_info_data, md_algorithm, dt_)
        # DummyTimeStamper._sign_tst_info, with the loaded key instead of parsing it at every token.
        md = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        md.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                simple_cms_attribute("content_type", "tst_info"),
                simple_cms_attribute("signing_time", cms.Time({"utc_time": asn1_core.UTCTime(dt_)})),
                simple_cms_attribute("signing_certificate", general.as_signing_certificate(self.tsa_cert)),
                simple_cms_attribute("message_digest", md.finalize()),
            ]
        )
        signature = self.private_key.sign(
            signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper())
        )
        return signature, signed_attrs

    def _build_tst_info(self, message_imprint, dt_, req):  # noqa: ANN001
        info = {
            "version": "v1",
            "policy": tsp.ObjectIdentifier(EMBEDDED_POLICY),
            "message_imprint": message_imprint,
            "serial_number": get_nonce(),
            "gen_time": dt_,
            "accuracy": tsp.Accuracy({"seconds": 1}),
            "ordering": False,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self.tsa_cert.subject),
        }
        if req["nonce"].native is not None:
            info["nonce"] = req["nonce"]
        return tsp.TSTInfo(info)


# -- External ------------------------------------------------------------------------------------


class HttpAuthority(Authority):
    """An external RFC 3161 server (pyHanko's HTTPTimeStamper: one POST of application/timestamp-query)."""

    def __init__(self, url: str, *, user: str = "", password: str = "", timeout: float = 5, ca_file: str = "") -> None:
        self.url = url
        # Basic authentication as a header (aiohttp deprecates its BasicAuth object).
        self.headers = (
            {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()} if user else {}
        )
        self.timeout = timeout
        self.name = url
        self.ca_certificates = load_pem_certificates(Path(ca_file).read_bytes()) if ca_file else []

    def timestamp(self, digest: bytes) -> bytes:
        stamper = HTTPTimeStamper(self.url, timeout=self.timeout, headers=dict(self.headers))
        token = self._stamp(stamper, digest)
        signer = signer_certificate(cms.ContentInfo.load(token))
        if signer is not None:
            self.name = signer.subject.human_friendly
        return token

    def chain(self) -> list[asn1_x509.Certificate]:
        return list(self.ca_certificates)


# -- Choosing, verifying -------------------------------------------------------------------------

_lock = threading.Lock()
_current: Authority | None = None


def get_authority() -> Authority:
    """The configured authority (built once per process)."""
    global _current
    with _lock:
        if _current is None:
            url = env("EBOURGOGNE_TSA_URL").strip()
            if url:
                _current = HttpAuthority(
                    url,
                    user=env("EBOURGOGNE_TSA_USER"),
                    password=env("EBOURGOGNE_TSA_PASSWORD"),
                    timeout=float(env("EBOURGOGNE_TSA_TIMEOUT") or 5),
                    ca_file=env("EBOURGOGNE_TSA_CA_FILE"),
                )
            else:
                _current = EmbeddedAuthority(authority_folder())
        return _current


def reset_authority() -> None:
    """Forget the authority built from the environment (tests change it)."""
    global _current
    with _lock:
        _current = None


def timestamp(digest: bytes) -> bytes:
    """A DER TimeStampToken over the SHA-256 `digest`, from the configured authority."""
    return get_authority().timestamp(digest)


def token_info(token: bytes) -> tsp.TSTInfo:
    try:
        content = cms.ContentInfo.load(token)
        if content["content_type"].native != "signed_data":
            raise ValueError("not SignedData")
        info = content["content"]["encap_content_info"]["content"].parsed
        if not isinstance(info, tsp.TSTInfo):
            raise ValueError("not TSTInfo")
        info.native  # noqa: B018 - parse every field now, so that garbage fails here
        return info
    except (ValueError, TypeError, KeyError) as error:
        raise TimestampInvalid(_("Le jeton d'horodatage est illisible (pas un jeton RFC 3161).")) from error


def signer_certificate(content: cms.ContentInfo) -> asn1_x509.Certificate | None:
    signed = content["content"]
    sid = signed["signer_infos"][0]["sid"].chosen
    for choice in signed["certificates"] or []:
        certificate = choice.chosen
        if not isinstance(certificate, asn1_x509.Certificate):
            continue
        if isinstance(sid, cms.IssuerAndSerialNumber):
            if certificate.issuer == sid["issuer"] and certificate.serial_number == sid["serial_number"].native:
                return certificate
        elif certificate.key_identifier == sid.native:
            return certificate
    return None


def verify(
    token: bytes,
    digest: bytes,
    *,
    trust_roots: list[asn1_x509.Certificate] | None = None,
    other_certificates: list[asn1_x509.Certificate] | None = None,
) -> Verified:
    """Check that `token` timestamps `digest`: the imprint, the signature, and a certificate chain with
    the timeStamping usage to one of `trust_roots` (default: the configured authority's roots), valid at
    the token's time. Offline: no OCSP/CRL fetching. Raises TimestampInvalid with the reason."""
    info = token_info(token)
    imprint = info["message_imprint"]
    algorithm = imprint["hash_algorithm"]["algorithm"].native
    if algorithm != HASH or imprint["hashed_message"].native != digest:
        raise TimestampInvalid(
            _("Le jeton d'horodatage ne porte pas sur cette empreinte (empreinte horodatée : %(imprint)s).")
            % {"imprint": imprint["hashed_message"].native.hex()}
        )
    if trust_roots is None:
        trust_roots = get_authority().roots()
    if not trust_roots:
        raise TimestampInvalid(_("Aucun certificat racine de confiance pour vérifier le jeton d'horodatage."))
    gen_time = info["gen_time"].native
    context = ValidationContext(
        trust_roots=trust_roots,
        other_certs=other_certificates or [],
        moment=gen_time,
        best_signature_time=gen_time,
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    content = cms.ContentInfo.load(token)
    try:
        kwargs = run_async(validate_tst_signed_data, content["content"], context, lambda _algorithm: digest)
        status = TimestampSignatureStatus(**kwargs)
    except Exception as error:  # pyHanko raises several kinds on malformed CMS
        raise TimestampInvalid(
            _("La signature du jeton d'horodatage est invalide : %(error)s") % {"error": error}
        ) from error
    if not (status.intact and status.valid):
        raise TimestampInvalid(_("La signature du jeton d'horodatage est invalide (jeton modifié)."))
    if not status.trusted:
        raise TimestampInvalid(
            _("Le certificat de l'autorité d'horodatage ne remonte pas à une racine de confiance (%(problem)s).")
            % {"problem": status.trust_problem_indic}
        )
    path = status.validation_path
    root = path.trust_anchor.authority.certificate if path is not None else None  # type: ignore[union-attr]
    return Verified(
        time=gen_time,
        tsa_name=status.signing_cert.subject.human_friendly,
        serial_number=info["serial_number"].native,
        policy=info["policy"].dotted,
        root_fingerprint=fingerprint(root) if root is not None else "",
    )


__all__ = [
    "Authority",
    "EmbeddedAuthority",
    "HttpAuthority",
    "TimestampError",
    "TimestampInvalid",
    "TimestampUnavailable",
    "Verified",
    "fingerprint",
    "get_authority",
    "load_pem_certificates",
    "reset_authority",
    "timestamp",
    "to_pem",
    "token_info",
    "verify",
]
