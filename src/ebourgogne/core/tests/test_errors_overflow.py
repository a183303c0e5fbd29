"""An identifier too large for the database in an address is a page not found, never a server error."""

import pytest

pytestmark = pytest.mark.django_db

HUGE = "1" + "0" * 25


@pytest.mark.parametrize(
    "path",
    [f"/consultations/{HUGE}/", f"/consultations/{HUGE}/questions/", f"/consultations/{HUGE}/dce/"],
)
def test_a_huge_identifier_is_not_found(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page introuvable" in response.content.decode()
