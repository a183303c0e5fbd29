"""/horodatage/: the authority's public certificates, for anyone verifying a receipt."""

from __future__ import annotations

from ebourgogne.timestamping import authority as tsa


def test_the_certificates_page_is_public_and_shows_the_fingerprints(client, db):
    authority = tsa.get_authority()
    response = client.get("/horodatage/")
    assert response.status_code == 200
    page = response.content.decode()
    for certificate in authority.chain():
        assert tsa.fingerprint(certificate) in page
    assert "/horodatage/racine.pem" in page


def test_the_pem_downloads_are_the_authoritys_certificates(client, db):
    authority = tsa.get_authority()
    root = client.get("/horodatage/racine.pem")
    assert root.status_code == 200 and root["Content-Type"] == "application/x-pem-file"
    assert [c.dump() for c in tsa.load_pem_certificates(root.content)] == [authority.root.dump()]
    leaf = client.get("/horodatage/autorite.pem")
    assert [c.dump() for c in tsa.load_pem_certificates(leaf.content)] == [authority.tsa_certificate.dump()]
    chain = client.get("/horodatage/chaine.pem")
    assert len(tsa.load_pem_certificates(chain.content)) == 2


def test_an_unknown_download_is_not_found(client, db):
    assert client.get("/horodatage/cle-privee.pem").status_code == 404
