"""Fixtures of the vault tests."""

from __future__ import annotations

import pytest

from ebourgogne.organisations.roles import Role
from ebourgogne.testing.factories import CompanyFactory, UserFactory, make_member

PDF = b"%PDF-1.7\n% vault test document\n"


def pdf_bytes(size: int = 5000, seed: bytes = b"") -> bytes:
    """A file that starts like a PDF, `size` bytes long, different for each seed."""
    import hashlib

    body = bytearray(PDF + seed)
    block = hashlib.sha256(seed).digest()
    while len(body) < size:
        block = hashlib.sha256(block).digest()
        body += block
    return bytes(body[:size])


@pytest.fixture
def other_company(db):
    return CompanyFactory(name="Charpentes de l'Yonne", slug="charpentes-de-l-yonne")


@pytest.fixture
def other_company_admin(other_company):
    return make_member(other_company, Role.COMPANY_ADMIN, UserFactory(full_name="Félix Concurrent"))


@pytest.fixture
def vault_dir(settings, tmp_path):
    settings.VAULT_STORAGE_DIR = str(tmp_path / "vault")
    return tmp_path / "vault"
