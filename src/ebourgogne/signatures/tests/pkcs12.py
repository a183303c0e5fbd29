"""Test helpers (no tests here): PKCS#12 files made with `cryptography`, as a certification authority
would issue them: a small CA of its own (root), and a person's certificate with the key usages, dates
and key asked for."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, NoEncryption, pkcs12
from cryptography.x509.oid import NameOID

PASSWORD = "mot de passe du p12"


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "AC de test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _usage(*, sign: bool, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=sign,
        content_commitment=sign,
        key_encipherment=not sign and not ca,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


@lru_cache(maxsize=1)
def test_ca() -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    """A root CA outside the platform (an "external" certification authority)."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    name = _name("AC de test racine")
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=3650))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(sign=False, ca=True), critical=True)
        .sign(key, hashes.SHA256())
    )
    return certificate, key


def make_pkcs12(
    name: str = "Paul Président",
    *,
    password: str | None = PASSWORD,
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    sign_usage: bool = True,
    key_usage: bool = True,
    rsa_bits: int | None = None,
    include_chain: bool = True,
) -> bytes:
    """A PKCS#12 with a person's key and certificate issued by `test_ca()`, and the CA's certificate."""
    root, root_key = test_ca()
    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(65537, rsa_bits) if rsa_bits else ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(name))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or now - dt.timedelta(days=30))
        .not_valid_after(not_after or now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    )
    if key_usage:
        builder = builder.add_extension(_usage(sign=sign_usage), critical=True)
    certificate = builder.sign(root_key, hashes.SHA256())
    encryption = BestAvailableEncryption(password.encode()) if password else NoEncryption()
    return pkcs12.serialize_key_and_certificates(
        name.encode(), key, certificate, [root] if include_chain else None, encryption
    )
