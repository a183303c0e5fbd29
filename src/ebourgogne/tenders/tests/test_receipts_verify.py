"""`ebourgogne receipt verify` and plain `openssl ts -verify` on a receipt's JSON: a good receipt and its
files verify; a modified payload, a modified token, a token of another receipt, a wrong file, a foreign
root each fail with a clear line and exit code 1. Also end to end: a bid deposited through the API."""

from __future__ import annotations

import base64
import json
import re
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from ebourgogne.tenders.receipts import receipt_document
from ebourgogne.tenders.tests.receipts_support import consultation_with_key, deposited_bid, issue
from ebourgogne.timestamping import authority as tsa
from ebourgogne.timestamping.tests.tsa_server import TsaServer


@pytest.fixture
def deposited(buyer, company, company_member, tmp_path):
    """(receipt JSON path, {name: ciphertext path}) of a bid deposited with two files."""
    consultation, _recipient = consultation_with_key(buyer, reference="2026-BEA-21")
    bid, ciphertexts = deposited_bid(company, company_member, consultation)
    receipt = issue(bid)
    path = tmp_path / "accuse.json"
    path.write_text(json.dumps(receipt_document(receipt), ensure_ascii=False))
    files = {}
    for name, data in ciphertexts.items():
        files[name] = tmp_path / f"{name}.age"
        files[name].write_bytes(data)
    return path, files


def verify(*args: str) -> tuple[bool, str]:
    out = StringIO()
    try:
        call_command("receipt", "verify", *map(str, args), stdout=out)
    except CommandError as error:
        assert error.returncode == 1
        return False, out.getvalue() + str(error)
    return True, out.getvalue()


def rewrite(path: Path, change) -> Path:
    document = json.loads(path.read_text())
    change(document)
    changed = path.with_name("modifie.json")
    changed.write_text(json.dumps(document, ensure_ascii=False))
    return changed


def test_a_good_receipt_and_its_files_verify(deposited):
    path, files = deposited
    ok, output = verify(path, *files.values())
    assert ok, output
    assert "Jeton d'horodatage valide" in output
    assert output.count("identique au fichier") == 2
    assert "Accusé vérifié" in output


def test_a_modified_payload_fails(deposited):
    path, _files = deposited

    def raise_the_deadline(document):
        payload = json.loads(base64.b64decode(document["payload_canonical"]))
        payload["late"] = False
        payload["deposited_at"] = "2026-01-01T00:00:00Z"
        document["payload_canonical"] = base64.b64encode(json.dumps(payload).encode()).decode()

    ok, output = verify(rewrite(path, raise_the_deadline))
    assert not ok
    assert "Le contenu de l'accusé a été modifié" in output and "NON vérifié" in output


def test_a_modified_displayed_payload_fails(deposited):
    path, _files = deposited
    ok, output = verify(rewrite(path, lambda d: d["payload"]["bidder"].update(name="Autre entreprise")))
    assert not ok and "« payload » ne correspond pas" in output


def test_a_modified_token_fails(deposited):
    path, _files = deposited

    def flip(document):
        token = bytearray(base64.b64decode(document["timestamp_token"]))
        token[-30] ^= 0x01
        document["timestamp_token"] = base64.b64encode(bytes(token)).decode()

    ok, output = verify(rewrite(path, flip))
    assert not ok and "Jeton d'horodatage refusé" in output


def test_the_token_of_another_receipt_fails(deposited, buyer, company, company_member):
    path, _files = deposited
    consultation, _recipient = consultation_with_key(buyer)
    other, _ = deposited_bid(company, company_member, consultation)
    other_token = base64.b64encode(bytes(issue(other).timestamp_token)).decode()
    ok, output = verify(rewrite(path, lambda d: d.update(timestamp_token=other_token)))
    assert not ok and "ne porte pas sur cette empreinte" in output


def test_a_wrong_file_fails(deposited, tmp_path):
    path, files = deposited
    wrong = tmp_path / "offre-modifiee.age"
    wrong.write_bytes(files["offre.pdf"].read_bytes()[:-1] + b"\x00")
    ok, output = verify(path, files["candidature.pdf"], wrong)
    assert not ok
    assert "identique au fichier « candidature.pdf »" in output
    assert "offre-modifiee.age : ne correspond à aucun fichier de l'accusé" in output


def test_a_root_given_with_ca_is_the_one_trusted(deposited, tmp_path):
    path, _files = deposited
    own = tmp_path / "racine.pem"
    own.write_text(tsa.to_pem(tsa.get_authority().root))
    ok, output = verify(path, "--ca", own)
    assert ok and "fournie dans l'accusé" not in output
    with TsaServer(tmp_path / "autre") as other:  # another authority's root: the chain does not reach it
        ok, output = verify(path, "--ca", other.ca_file)
    assert not ok and "racine de confiance" in output


def test_not_a_receipt(tmp_path):
    garbage = tmp_path / "x.json"
    garbage.write_text("pas du json")
    ok, output = verify(garbage)
    assert not ok and "pas du JSON" in output
    garbage.write_text("[1, 2]")
    ok, output = verify(garbage)
    assert not ok and "pas un accusé de réception" in output


GUIDE = Path(__file__).resolve().parents[4] / "docs" / "guide" / "verifier-accuse.md"


def guide_commands() -> list[str]:
    """The shell commands of docs/guide/verifier-accuse.md, "Méthode 2", as printed (continuations joined)."""
    text = GUIDE.read_text(encoding="utf-8").split("## Méthode 2", 1)[1]
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [block.replace("\\\n", " ").strip() for block in blocks]


def openssl_verify(document: dict, folder: Path) -> subprocess.CompletedProcess:
    """Run the guide's steps, with openssl and jq only (no Python of ours), on the receipt `document`."""
    (folder / "accuse.json").write_text(json.dumps(document))

    def sh(command: str) -> subprocess.CompletedProcess:
        return subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False, shell=True)  # noqa: S602

    steps = guide_commands()
    extract_token, extract_payload, digests, certificates, verify_digest, verify_data, read = steps[:7]
    for step in (extract_token, extract_payload, certificates):
        assert sh(step).returncode == 0, step
    computed, announced = sh(digests).stdout.split()
    assert announced == document["digest"]
    printed = sh(certificates).stdout.split("=", 1)[1].strip().replace(":", "").lower()
    assert printed == tsa.fingerprint(tsa.load_pem_certificates(document["tsa_certificates"][-1].encode())[0])
    by_digest = sh(verify_digest)
    by_data = sh(verify_data)
    assert computed == announced
    assert (by_digest.returncode == 0) == (by_data.returncode == 0), by_digest.stdout + by_data.stdout
    assert "Time stamp:" in sh(read).stdout
    return by_digest


def test_a_receipt_verifies_with_plain_openssl(deposited, tmp_path):
    path, _files = deposited
    result = openssl_verify(json.loads(path.read_text()), tmp_path)
    assert result.returncode == 0 and "Verification: OK" in result.stdout, result.stdout + result.stderr


def test_openssl_refuses_a_token_for_another_digest(deposited, tmp_path):
    path, _files = deposited
    document = json.loads(path.read_text())
    document["payload_canonical"] = base64.b64encode(b'{"late":false}').decode()
    document["digest"] = __import__("hashlib").sha256(b'{"late":false}').hexdigest()
    result = openssl_verify(document, tmp_path)
    assert result.returncode != 0 and "Verification: FAILED" in result.stdout + result.stderr


# -- End to end, through the deposit API ----------------------------------------------------------


def test_a_bid_deposited_through_the_api_has_a_receipt_that_verifies(
    client, buyer, company, company_member, tmp_path, django_capture_on_commit_callbacks
):
    from ebourgogne.tenders.tests.support import announce, create_bid, deposit, open_consultation, sealed, upload
    from ebourgogne.testing.factories import sign_in

    consultation, recipient = open_consultation(buyer)
    sign_in(client, company_member)
    bid = create_bid(client, company.slug, consultation.pk)
    data = sealed(recipient, 50_000, seed=7)
    announced = announce(client, company.slug, bid["id"], len(data))
    upload(client, announced["url"], data, chunk=16_384)
    # The token is signed once the deposit has committed (the test's transaction never commits: run the
    # deposit's after-commit work as the commit would).
    with django_capture_on_commit_callbacks(execute=True):
        response = deposit(client, company.slug, bid["id"])
    assert response.status_code == 201, response.content
    fetched = client.get(f"/api/v1/companies/{company.slug}/bids/{bid['id']}/receipt")
    assert fetched.status_code == 200
    document = fetched.json()
    path = tmp_path / "accuse.json"
    path.write_text(json.dumps(document))
    (tmp_path / "offre.pdf.age").write_bytes(data)
    ok, output = verify(path, tmp_path / "offre.pdf.age")
    assert ok, output
    result = openssl_verify(document, tmp_path)
    assert result.returncode == 0 and "Verification: OK" in result.stdout
