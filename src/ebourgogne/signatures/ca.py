"""The platform's signing certificate authority: certificates for members who have none of their own.

It is built like the embedded timestamp authority (timestamping/authority.py): generated with
`cryptography` on first use, in `<data folder>/signing-ca` (or the folder of the `SIGNATURES_CA_DIR`
setting):

- `root.pem`: "e-bourgogne racine de signature", a root CA (RSA 3072, 20 years) whose private key is
  thrown away once it has issued the issuing CA: nobody, the platform included, can issue another CA
  under that root. It is the trust anchor the platform validates platform-issued signatures against.
- `ca.pem` and `ca.key` (PKCS#8 PEM, mode 0600): "e-bourgogne autorité de signature", the issuing CA
  (RSA 3072, 10 years, path length 0). Its key is kept: it signs the members' certificates.

A member's certificate (`issue`) holds their name and e-mail address, key usages digitalSignature and
nonRepudiation (critical), no extended key usage (NSS, hence `pdfsig`, refuses a signing certificate
whose extended key usages do not include e-mail protection), and is valid `VALIDITY` (two years).
The member's key pair is made by the caller (services) and only its public key comes here.

These are demonstration certificates: the platform vouches that the holder had an account with that
name and e-mail address, nothing more (no face-to-face identity check, not a qualified certificate in
the eIDAS sense). An organisation with its own PKI puts its own `root.pem`, `ca.pem`, `ca.key` there.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings

VALIDITY = dt.timedelta(days=730)


def _name(common_name: str, *, email: str = "") -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "e-bourgogne"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
    ]
    if email:
        attributes.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, email[:128]))
    return x509.Name(attributes)


def _key_usage(*, sign: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for filename, content in files.items():  # root.pem last: its presence means the set is complete
        temporary = folder / f".{filename}.tmp"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        if not filename.endswith(".key"):
            os.chmod(temporary, 0o644)
        os.replace(temporary, folder / filename)


def generate_files(folder: Path, *, now: dt.datetime | None = None) -> None:
    """Create root.pem, ca.pem and ca.key in `folder`. The root's key is not kept."""
    now = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    root_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    root_name = _name("e-bourgogne racine de signature")
    root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * 20 + 5))
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(root_ski, critical=False)
        .sign(root_key, hashes.SHA256())
    )
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("e-bourgogne autorité de signature"))
        .issuer_name(root_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365 * 10 + 3))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski), critical=False)
        .sign(root_key, hashes.SHA256())
    )
    _write(
        folder,
        {
            "ca.key": ca_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
            "ca.pem": ca.public_bytes(serialization.Encoding.PEM),
            "root.pem": root.public_bytes(serialization.Encoding.PEM),
        },
    )


def folder() -> Path:
    configured = getattr(settings, "SIGNATURES_CA_DIR", "")
    return Path(configured).expanduser().resolve() if configured else Path(settings.DATA_DIR) / "signing-ca"


def ensure_files(where: Path) -> None:
    """Generate the CA's files once, even with several server processes starting together."""
    if (where / "root.pem").exists():
        return
    where.mkdir(parents=True, exist_ok=True)
    with open(where / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (where / "root.pem").exists():
                generate_files(where)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Authority:
    root: x509.Certificate
    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey

    def issue(
        self, *, public_key, name: str, email: str, now: dt.datetime, validity: dt.timedelta = VALIDITY
    ) -> x509.Certificate:  # noqa: ANN001
        """A signing certificate for `public_key`, in the name of `name` <`email`>."""
        now = now.astimezone(dt.UTC).replace(microsecond=0)
        not_after = min(now + validity, self.certificate.not_valid_after_utc)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name or email, email=email))
            .issuer_name(self.certificate.subject)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.certificate.public_key()), critical=False
            )
        )
        if email:
            builder = builder.add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), critical=False)
        return builder.sign(self.private_key, hashes.SHA256())


_lock = threading.Lock()
_current: tuple[Path, Authority] | None = None


def get_authority() -> Authority:
    """The platform signing CA of the configured folder (generated on first use, loaded once)."""
    global _current
    where = folder()
    with _lock:
        if _current is None or _current[0] != where:
            ensure_files(where)
            _current = (
                where,
                Authority(
                    root=x509.load_pem_x509_certificate((where / "root.pem").read_bytes()),
                    certificate=x509.load_pem_x509_certificate((where / "ca.pem").read_bytes()),
                    private_key=serialization.load_pem_private_key((where / "ca.key").read_bytes(), password=None),
                ),
            )
        return _current[1]


def root_if_present() -> x509.Certificate | None:
    """The platform signing root if the CA exists (validation must not create a CA as a side effect)."""
    where = folder()
    path = where / "root.pem"
    if not path.exists():
        return None
    return x509.load_pem_x509_certificate(path.read_bytes())
