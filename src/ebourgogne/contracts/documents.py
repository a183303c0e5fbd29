"""The contract's documents: store a PDF once, sign it (buyer, holder) in PAdES, notify it to the holder.

Shared by the contract itself (acte d'engagement, `contracts.services`) and by the execution
(modifications, order forms, subcontracting acts, `contracts.execution`). Every function checks the
caller's permission, writes an audit event and raises `core.errors.DomainError` with a clear message.

INTERFACE (session 5): the signatures below are fixed; the bodies are written by the contract-core work.
"""

from __future__ import annotations

from typing import Any

from ebourgogne.contracts.models import Contract, ContractDocument


def add(
    *,
    contract: Contract,
    kind: str,
    title: str,
    pdf: bytes,
    filename: str,
    acting_user: Any,
    request: Any = None,
) -> ContractDocument:
    """Store a PDF (checked to be a PDF, within the size limit) as a new document of the contract."""
    raise NotImplementedError


def content(document: ContractDocument) -> bytes:
    """The current bytes (signed revisions included). DomainError("purged") once the purge deleted it."""
    raise NotImplementedError


def sign(
    *,
    document: ContractDocument,
    party: str,  # "buyer" or "holder"
    acting_user: Any,
    certificate: Any,  # signatures.SigningCertificate of acting_user
    secret: str,
    request: Any = None,
) -> ContractDocument:
    """Add a PAdES signature of `acting_user` (permission contracts.sign for the buyer, contracts.holder_sign
    for the holder) with a document timestamp; refuses an expired or revoked certificate, a document
    already signed by that party, a modified file (SHA-256 differs from the stored one)."""
    raise NotImplementedError


def notify(
    *,
    document: ContractDocument,
    letter_kind: str,  # awards.LetterKind.CONTRACT / MODIFICATION / ORDER / SUBCONTRACT
    subject: str,
    summary: str,
    acting_user: Any,
    request: Any = None,
) -> Any:
    """Send the signed document to the holder as an `awards.Letter` (proof of sending, timestamped; the
    holder's first reading is its proof of reading); sets `document.letter` and `notified_at`."""
    raise NotImplementedError
