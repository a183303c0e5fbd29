"""The timestamp authority: the embedded one's certificates, tokens that verify (with pyHanko and with
plain openssl), tokens that must not, and an external RFC 3161 server over real HTTP, up and down."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from ebourgogne.timestamping import authority as tsa
from ebourgogne.timestamping.tests.tsa_server import TsaServer, closed_port_url

DIGEST = hashlib.sha256(b"accuse de reception").digest()


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> tsa.EmbeddedAuthority:
    return tsa.EmbeddedAuthority(tmp_path_factory.mktemp("tsa"))


@pytest.fixture(scope="module")
def foreign(tmp_path_factory) -> tsa.EmbeddedAuthority:
    """Another platform's authority: same names, other keys."""
    return tsa.EmbeddedAuthority(tmp_path_factory.mktemp("other-tsa"))


def test_generated_files_are_a_root_and_a_tsa_certificate_for_time_stamping_only(embedded):
    root = x509.load_der_x509_certificate(embedded.root.dump())
    leaf = x509.load_der_x509_certificate(embedded.tsa_certificate.dump())
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert leaf.issuer == root.subject
    assert embedded.chain() == [embedded.tsa_certificate, embedded.root]
    assert embedded.roots() == [embedded.root]


def test_the_key_is_private_and_the_roots_key_is_not_kept(tmp_path):
    tsa.EmbeddedAuthority(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "root.pem",
        "tsa.key",
        "tsa.pem",
    ]
    assert stat.S_IMODE(os.stat(tmp_path / "tsa.key").st_mode) == 0o600
    assert b"PRIVATE KEY" not in (tmp_path / "root.pem").read_bytes()
    # A second start reuses the files.
    before = (tmp_path / "root.pem").read_bytes()
    tsa.EmbeddedAuthority(tmp_path)
    assert (tmp_path / "root.pem").read_bytes() == before


def test_a_token_verifies_and_says_when_and_who(embedded):
    token = embedded.timestamp(DIGEST)
    verified = tsa.verify(token, DIGEST, trust_roots=[embedded.root])
    assert "e-bourgogne" in verified.tsa_name
    assert verified.policy == tsa.EMBEDDED_POLICY
    assert verified.root_fingerprint == tsa.fingerprint(embedded.root)
    assert verified.time.tzinfo is not None


def test_a_token_for_another_digest_is_refused(embedded):
    token = embedded.timestamp(DIGEST)
    with pytest.raises(tsa.TimestampInvalid, match="ne porte pas sur cette empreinte"):
        tsa.verify(token, hashlib.sha256(b"autre chose").digest(), trust_roots=[embedded.root])


def test_a_modified_token_is_refused(embedded):
    token = bytearray(embedded.timestamp(DIGEST))
    token[-20] ^= 0x01  # inside the RSA signature
    with pytest.raises(tsa.TimestampInvalid, match="signature"):
        tsa.verify(bytes(token), DIGEST, trust_roots=[embedded.root])


def test_a_token_from_another_authority_does_not_chain_to_our_root(embedded, foreign):
    token = foreign.timestamp(DIGEST)
    with pytest.raises(tsa.TimestampInvalid, match="racine de confiance"):
        tsa.verify(token, DIGEST, trust_roots=[embedded.root])


def test_garbage_is_not_a_token(embedded):
    with pytest.raises(tsa.TimestampInvalid, match="illisible"):
        tsa.verify(b"pas un jeton", DIGEST, trust_roots=[embedded.root])


def test_a_token_verifies_with_plain_openssl(embedded, tmp_path):
    token = embedded.timestamp(DIGEST)
    (tmp_path / "token.der").write_bytes(token)
    (tmp_path / "root.pem").write_text(tsa.to_pem(embedded.root))
    (tmp_path / "tsa.pem").write_text(tsa.to_pem(embedded.tsa_certificate))
    command = ["openssl", "ts", "-verify", "-token_in", "-in", str(tmp_path / "token.der"),
               "-CAfile", str(tmp_path / "root.pem"), "-untrusted", str(tmp_path / "tsa.pem")]  # fmt: skip
    good = subprocess.run([*command, "-digest", DIGEST.hex()], capture_output=True, text=True, check=False)  # noqa: S603
    assert good.returncode == 0 and "Verification: OK" in good.stdout, good.stdout + good.stderr
    other = hashlib.sha256(b"autre").hexdigest()
    bad = subprocess.run([*command, "-digest", other], capture_output=True, text=True, check=False)  # noqa: S603
    assert bad.returncode != 0 and "Verification: FAILED" in bad.stdout + bad.stderr


def test_an_external_authority_over_http(tmp_path):
    with TsaServer(tmp_path / "remote", user="plateforme", password="s3cret") as server:
        external = tsa.HttpAuthority(server.url, user="plateforme", password="s3cret", ca_file=str(server.ca_file))
        token = external.timestamp(DIGEST)
        assert server.requests == 1
        verified = tsa.verify(token, DIGEST, trust_roots=external.roots())
        assert "e-bourgogne" in verified.tsa_name
        assert [c.dump() for c in external.chain()] == [server.authority.root.dump()]
        wrong_password = tsa.HttpAuthority(server.url, user="plateforme", password="faux", ca_file=str(server.ca_file))
        with pytest.raises(tsa.TimestampUnavailable):
            wrong_password.timestamp(DIGEST)


def test_an_external_authority_that_does_not_answer(tmp_path):
    down = tsa.HttpAuthority(closed_port_url(), timeout=2)
    with pytest.raises(tsa.TimestampUnavailable, match="n'a pas répondu"):
        down.timestamp(DIGEST)


def test_the_configured_authority_follows_the_environment(monkeypatch, tmp_path, settings):
    monkeypatch.setenv("EBOURGOGNE_TSA_DIR", str(tmp_path / "embedded"))
    tsa.reset_authority()
    try:
        assert isinstance(tsa.get_authority(), tsa.EmbeddedAuthority)
        assert (tmp_path / "embedded" / "root.pem").exists()
        monkeypatch.setenv("EBOURGOGNE_TSA_URL", "http://127.0.0.1:9/tsr")
        tsa.reset_authority()
        assert isinstance(tsa.get_authority(), tsa.HttpAuthority)
    finally:
        monkeypatch.undo()
        tsa.reset_authority()


def test_verifying_and_stamping_work_under_a_running_event_loop(embedded, tmp_path):
    """Called from code that runs an event loop in the same thread (an async view, Playwright's sync API)."""
    import asyncio

    async def inside_a_loop():
        token = embedded.timestamp(DIGEST)
        with TsaServer(tmp_path / "remote") as server:
            external = tsa.HttpAuthority(server.url, ca_file=str(server.ca_file))
            tsa.verify(external.timestamp(DIGEST), DIGEST, trust_roots=external.roots())
        return tsa.verify(token, DIGEST, trust_roots=[embedded.root])

    # In a thread of its own: in the full suite, Playwright's sync API may already run a loop in this one.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        verified = pool.submit(lambda: asyncio.run(inside_a_loop())).result()
    assert verified.policy == tsa.EMBEDDED_POLICY
