"""The independent check of the issue: a file encrypted by the browser, with the committed bundle
(static/tenders/age.min.js) and the page's own code (sealed.js: streaming encryption, chunking, the Origin
Private File System store), decrypts with the `age` command-line tool given the consultation's identity."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from pathlib import Path

import pytest
from django_scopes import scopes_disabled

from ebourgogne.testing.factories import ConsultationFactory
from ebourgogne.testing.sealing import give_test_key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AGE = Path("/usr/bin/age")

# In the page: encrypt a File to `recipient` through sealed.js, cut the ciphertext into `chunkSize` pieces
# stored in OPFS under `uploadId` (as the bid page does), then read them back; answer the ciphertext
# (base64), the size announced before encrypting, and the SHA-256 computed from OPFS.
ENCRYPT_IN_PAGE = """
async ({recipient, data, chunkSize, uploadId}) => {
  const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
  const file = new File([bytes], "offre.pdf");
  const sealed = await ebSealed.encrypt(recipient, file.stream(), file.size);
  const folder = await ebSealed.opfs.folder(uploadId, true);
  let index = 0;
  for await (const chunk of ebSealed.chunks(sealed.stream, chunkSize)) {
    await ebSealed.opfs.writeChunk(folder, index, chunk);
    index += 1;
  }
  await ebSealed.opfs.writeManifest(folder, {chunks: index, size: sealed.size});
  const parts = [];
  for (let i = 0; i < index; i++) parts.push(await ebSealed.opfs.readChunk(folder, i));
  const whole = new Uint8Array(await new Blob(parts).arrayBuffer());
  let text = "";
  for (let i = 0; i < whole.length; i += 32768) text += String.fromCharCode(...whole.subarray(i, i + 32768));
  return {ciphertext: btoa(text), announced: sealed.size, chunks: index,
          sha256: await ebSealed.opfs.sha256Hex(uploadId)};
}
"""


@pytest.fixture
def consultation_with_key():
    with scopes_disabled():
        consultation = ConsultationFactory(published=True)
    identity = give_test_key(consultation)
    return consultation, identity


def test_a_file_encrypted_by_the_browser_decrypts_with_the_age_cli(browser_page, consultation_with_key, tmp_path):
    if not AGE.exists():
        pytest.fail("the age CLI is missing: apt-get install age")
    consultation, identity = consultation_with_key
    recipient = consultation.opening_key.recipient
    # Several 64 KiB age records and a last partial one, cut into upload chunks of 100 000 bytes.
    plaintext = os.urandom(3 * 65536 + 12345)
    page = browser_page
    page.goto("/poste-de-travail/")
    page.wait_for_function("() => window.ebSealed && window.ebAge")
    result = page.evaluate(
        ENCRYPT_IN_PAGE,
        {
            "recipient": recipient,
            "data": base64.b64encode(plaintext).decode(),
            "chunkSize": 100_000,
            "uploadId": "test-upload",
        },
    )
    ciphertext = base64.b64decode(result["ciphertext"])
    assert result["announced"] == len(ciphertext)  # the size the page announces before encrypting is exact
    assert result["chunks"] == -(-len(ciphertext) // 100_000)
    assert result["sha256"] == hashlib.sha256(ciphertext).hexdigest()
    assert ciphertext.startswith(b"age-encryption.org/v1\n-> X25519 ")
    assert ciphertext.count(b"\n-> ") == 1  # exactly one recipient stanza
    assert plaintext[:1000] not in ciphertext

    (tmp_path / "identity.txt").write_text(identity + "\n")
    (tmp_path / "offre.pdf.age").write_bytes(ciphertext)
    decrypted = subprocess.run(  # noqa: S603 (our own fixed arguments)
        [str(AGE), "-d", "-i", str(tmp_path / "identity.txt"), str(tmp_path / "offre.pdf.age")],
        capture_output=True,
        check=True,
    )
    assert decrypted.stdout == plaintext


def test_the_page_refuses_a_recipient_that_is_not_x25519(browser_page):
    page = browser_page
    page.goto("/poste-de-travail/")
    page.wait_for_function("() => window.ebSealed && window.ebAge")
    checks = page.evaluate(
        """async () => {
          const id = await ebAge.generateX25519Identity();
          const good = await ebAge.identityToRecipient(id);
          const pq = "age1pq1" + "q".repeat(1950);  // a post-quantum hybrid recipient's shape
          let refused = false;
          try { await ebSealed.encrypt(pq, new Blob(["x"]).stream(), 1); } catch (e) { refused = true; }
          return {good: ebSealed.isX25519Recipient(good), pq: ebSealed.isX25519Recipient(pq), refused,
                  passphrase: ebSealed.isX25519Recipient("AGE-SECRET-KEY-1ABC"), upper: ebSealed.isX25519Recipient(good.toUpperCase())};
        }"""
    )
    assert checks == {"good": True, "pq": False, "refused": True, "passphrase": False, "upper": False}
