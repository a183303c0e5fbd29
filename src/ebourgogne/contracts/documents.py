"""The contract's documents: store a PDF once, sign it (buyer, holder) in PAdES, notify it to the holder.

Shared by the contract itself (acte d'engagement, `contracts.services`) and by the execution
(modifications, order forms, subcontracting acts, `contracts.execution`). Every function checks the
caller's permission, writes an audit event and raises `core.errors.DomainError` with a clear message.

The rules:

- `add`: a PDF (it starts with `%PDF-`), at most `MAX_SIZE` bytes, stored with Django's default storage
  under `contracts/<contract uid>/<random>.pdf` (never overwritten), with its SHA-256. The buyer adds any
  document (`contracts.manage`); the holder (`contracts.holder`) adds a subcontracting act or another
  piece only.
- `content`: the stored bytes, checked against the recorded SHA-256: a file changed in the storage is
  never served nor signed ("tampered"); a purged file is "purged".
- `replace_unsigned`: the same act made again (new terms, a new holder) while nobody has signed it: new
  bytes under a new name in the same row, the old file deleted after the commit.
- `sign`: one PAdES signature (signatures.services.sign_pdf, B-T) of the party then a PAdES document
  timestamp, both incremental updates (every earlier revision stays inside the PDF and keeps its
  signatures valid). The buyer's signer needs `contracts.sign` in the contract's organisation, the
  holder's `contracts.holder_sign` in the holder company; each party signs once; the certificate must be
  the signer's own, not revoked and within its dates. The new bytes are checked with pyHanko before they
  are stored under a new name (the previous file is deleted only after the commit): a refusal changes
  nothing and loses nothing.
- `notify`: the signed document becomes an `awards.Letter` addressed to the holder (the PDF of the letter
  is the document itself, same SHA-256), with the awards letters' proof of sending (`awards.evidence`,
  timestamped) and their e-mail; the holder's first reading is its proof of reading (awards'
  `letter_read`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.contracts.models import Contract, ContractDocument, DocumentKind
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of

logger = logging.getLogger(__name__)

MAX_SIZE = 50 * 1024 * 1024
PARTIES = ("buyer", "holder")
MANAGE = "contracts.manage"
SIGN = "contracts.sign"
HOLDER = "contracts.holder"
HOLDER_SIGN = "contracts.holder_sign"
HOLDER_KINDS = (DocumentKind.SUBCONTRACT, DocumentKind.OTHER)
FIELD_NAMES = {"buyer": "Signature-acheteur", "holder": "Signature-titulaire"}
TIMESTAMP_FIELDS = {"buyer": "Horodatage-acheteur", "holder": "Horodatage-titulaire"}
# The audit action of a notification, by letter kind (labels registered in contracts/apps.py).
NOTIFY_ACTIONS = {
    "contract": "contracts.notified",
    "modification": "contracts.modification_notified",
    "order": "contracts.order_issued",
    "subcontract": "contracts.subcontract_decided",
}
TITLE_MAX = 255
FILENAME_MAX = 255


# --- Access and small helpers ---------------------------------------------------------------------


def require(acting_user: Any, organisation: Any, permission: str) -> None:
    """The caller holds `permission` in `organisation` (NotFound when they are not a member at all)."""
    if acting_user is None or not getattr(acting_user, "is_authenticated", False):
        raise PermissionRefused(_("Connectez-vous pour effectuer cette action."))
    roles = roles_of(user=acting_user, organisation=organisation) if organisation.is_active else set()
    if not roles:
        raise NotFound(_("Marché introuvable."))
    if not roles_grant(roles, permission):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas cette action sur le marché."))


def may(acting_user: Any, organisation: Any, permission: str) -> bool:
    try:
        require(acting_user, organisation, permission)
    except DomainError:
        return False
    return True


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _audit(action: str, *, actor: Any, contract: Contract, data: dict[str, Any], request: Any) -> None:
    log_event(
        action=action,
        actor=actor,
        organisation=contract.organisation,
        obj=contract,
        data={"contract": str(contract.uid), "number": contract.number, **data},
        request=request,
    )


def check_pdf(pdf: Any) -> bytes:
    """The bytes of a PDF within the size limit, or a clear refusal."""
    if not isinstance(pdf, bytes | bytearray | memoryview) or not len(pdf):
        raise DomainError(_("Le fichier est vide : choisissez un document PDF."), code="empty")
    data = bytes(pdf)
    if len(data) > MAX_SIZE:
        raise DomainError(
            _("Le fichier dépasse la taille maximale de %(max)s Mo.") % {"max": MAX_SIZE // (1024 * 1024)},
            code="too_large",
        )
    if not data.startswith(b"%PDF-"):
        raise DomainError(_("Le fichier n'est pas un document PDF."), code="not_pdf")
    return data


def _clean_filename(filename: Any) -> str:
    name = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(character for character in name if character.isprintable())
    if not name:
        name = "document.pdf"
    if not name.lower().endswith(".pdf"):
        name = f"{name}.pdf"
    if len(name) > FILENAME_MAX:
        name = name[: FILENAME_MAX - 4] + ".pdf"
    return name


def _store(contract: Contract, data: bytes) -> str:
    """Save under a new non-guessable name in the contract's folder; never overwrites."""
    return default_storage.save(f"contracts/{contract.uid}/{secrets.token_urlsafe(18)}.pdf", ContentFile(data))


def _delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # a file that cannot be removed only wastes space
        logger.exception("Contract document: %s could not be deleted", name)


def lock(document: ContractDocument) -> ContractDocument:
    """The document's row, locked until the caller's transaction ends: a signature, a notification or a
    replacement of the same document at the same time waits for it."""
    with scopes_disabled():
        found = (
            ContractDocument.objects.select_for_update(of=("self",))
            .select_related("contract__organisation", "contract__holder")
            .filter(pk=document.pk)
            .first()
        )
    if found is None:
        raise NotFound(_("Pièce introuvable."))
    return found


def signer_name(user: Any) -> str:
    return getattr(user, "full_name", "") or user.email


# --- Store and read -------------------------------------------------------------------------------


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
    with scopes_disabled():
        contract = Contract.objects.select_related("organisation", "holder").get(pk=contract.pk)
    if kind not in DocumentKind.values:
        raise DomainError(_("Choisissez la nature de la pièce."), code="invalid_kind")
    if may(acting_user, contract.organisation, MANAGE):
        side = "buyer"
    elif getattr(acting_user, "is_authenticated", False) and roles_of(user=acting_user, organisation=contract.holder):
        require(acting_user, contract.holder, HOLDER)
        if kind not in HOLDER_KINDS:
            raise PermissionRefused(
                _("Le titulaire ajoute un acte de sous-traitance ou une autre pièce ; l'acheteur ajoute les autres.")
            )
        side = "holder"
    else:
        require(acting_user, contract.organisation, MANAGE)  # not a member: 404; a member without the right: 403
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas cette action sur le marché."))
    text = str(title or "").strip()
    if not text:
        raise DomainError(_("Indiquez l'intitulé de la pièce."), code="invalid_title")
    if len(text) > TITLE_MAX:
        raise DomainError(_("L'intitulé ne peut pas dépasser 255 caractères."), code="invalid_title")
    data = check_pdf(pdf)
    digest = sha256(data)
    name = _store(contract, data)
    try:
        with transaction.atomic():
            with scopes_disabled():
                document = ContractDocument.objects.create(
                    contract=contract,
                    kind=kind,
                    title=text,
                    filename=_clean_filename(filename),
                    storage_name=name,
                    original_sha256=digest,
                    sha256=digest,
                    size=len(data),
                    created_at=clock.now(),
                    created_by=acting_user,
                )
            _audit(
                "contracts.document_added",
                actor=acting_user,
                contract=contract,
                data={
                    "document": document.pk,
                    "kind": kind,
                    "title": text,
                    "sha256": digest,
                    "size": len(data),
                    "by": side,
                },
                request=request,
            )
    except Exception:
        _delete_quietly(name)
        raise
    return document


@transaction.atomic
def replace_unsigned(document: ContractDocument, pdf: bytes) -> ContractDocument:
    """Replace the file of a document that nobody has signed nor notified yet by `pdf` (the same act made
    again: the acte d'engagement with new terms, a modification with its new holder). Same row; the new
    bytes (checked as in `add`) under a new name, their SHA-256 both the current and the original one.

    The row is locked first, so that a signature at the same time waits and then signs the new bytes; a
    document already signed or notified is refused (a signed PDF never changes). The old file is deleted
    only once the caller's transaction commits (a rollback never loses it), the new one at once if this
    step fails. No audit event: the caller records its own change."""
    data = check_pdf(pdf)
    document = lock(document)
    if document.notified_at is not None:
        raise DomainError(_("Cette pièce est déjà notifiée au titulaire."), code="already_notified")
    if document.buyer_signed_at is not None:
        raise DomainError(_("Cette pièce est déjà signée par l'acheteur."), code="already_signed")
    if document.holder_signed_at is not None:
        raise DomainError(_("Cette pièce est déjà signée par le titulaire."), code="already_signed")
    digest = sha256(data)
    new_name = _store(document.contract, data)
    old_name = document.storage_name
    try:
        document.storage_name, document.sha256, document.original_sha256, document.size = (
            new_name,
            digest,
            digest,
            len(data),
        )
        with scopes_disabled():
            document.save(update_fields=["storage_name", "sha256", "original_sha256", "size"])
    except Exception:
        _delete_quietly(new_name)
        raise
    transaction.on_commit(lambda: _delete_quietly(old_name))
    return document


def content(document: ContractDocument) -> bytes:
    """The current bytes (signed revisions included). DomainError("purged") once the purge deleted it."""
    if document.purged_at is not None or not document.storage_name:
        raise DomainError(
            _("Ce fichier a été supprimé au terme de sa durée de conservation."),
            code="purged",
        )
    try:
        with default_storage.open(document.storage_name, "rb") as handle:
            data = handle.read()
    except (FileNotFoundError, OSError) as error:
        raise DomainError(_("Le fichier de cette pièce est introuvable dans le stockage."), code="missing") from error
    if sha256(data) != document.sha256:
        raise DomainError(
            _(
                "Le fichier de cette pièce ne correspond plus à son empreinte enregistrée : il n'est ni servi ni "
                "signé. Prévenez l'administrateur de la plateforme."
            ),
            code="tampered",
        )
    return data


def checks_as_dict(checks: list[Any]) -> dict[str, Any]:
    """A JSON summary of `signatures.services.validate_pdf`'s checks (stored in `verification`)."""
    return {
        "source": "pades",
        "checked_at": clock.now().isoformat(),
        "signatures": [
            {
                "field_name": check.field_name,
                "kind": check.kind,
                "revision": check.revision,
                "signer": check.signer,
                "fingerprint": check.fingerprint,
                "intact": check.intact,
                "valid": check.valid,
                "trusted": check.trusted,
                "timestamp": check.timestamp.isoformat() if check.timestamp else None,
                "timestamp_ok": check.timestamp_ok,
                "changes_after": check.changes_after,
                "ok": check.ok,
            }
            for check in checks
        ],
    }


# --- Signing --------------------------------------------------------------------------------------


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
    from ebourgogne.signatures import pades
    from ebourgogne.signatures import services as signing

    if party not in PARTIES:
        raise DomainError(_("Partie inconnue : l'acheteur ou le titulaire signe."), code="invalid_party")
    new_name = None
    try:
        with transaction.atomic():
            document = lock(document)
            contract = document.contract
            if party == "buyer":
                require(acting_user, contract.organisation, SIGN)
            else:
                require(acting_user, contract.holder, HOLDER_SIGN)
            if certificate is None or getattr(certificate, "user_id", None) != acting_user.pk:
                raise NotFound(_("Certificat introuvable."))
            signed_at = document.buyer_signed_at if party == "buyer" else document.holder_signed_at
            if signed_at is not None:
                raise DomainError(
                    _("Cette pièce est déjà signée par l'acheteur.")
                    if party == "buyer"
                    else _("Cette pièce est déjà signée par le titulaire."),
                    code="already_signed",
                )
            signing.check_can_sign(certificate)
            current = content(document)
            name = signer_name(acting_user)
            signed = signing.sign_pdf(
                current,
                certificate=certificate,
                secret=secret,
                field_name=FIELD_NAMES[party],
                reason=(
                    _("Signature de l'acheteur : %(title)s (marché %(number)s)")
                    if party == "buyer"
                    else _("Signature du titulaire : %(title)s (marché %(number)s)")
                )
                % {"title": document.title, "number": contract.number},
                location=(contract.organisation.name if party == "buyer" else contract.holder.name)[:200],
                signer_name=name,
            )
            signed = pades.add_document_timestamp(signed, field_name=TIMESTAMP_FIELDS[party])
            checks = signing.validate_pdf(signed)
            mine = [check for check in checks if check.field_name == FIELD_NAMES[party]]
            if (
                len(mine) != 1
                or mine[0].fingerprint != certificate.fingerprint
                or not all(check.intact and check.valid for check in checks)
            ):
                raise DomainError(
                    _("La signature produite ne se vérifie pas : rien n'a été enregistré."), code="signature_invalid"
                )
            now = clock.now()
            digest = sha256(signed)
            before = document.sha256
            new_name = _store(contract, signed)
            old_name = document.storage_name
            document.storage_name = new_name
            document.sha256 = digest
            document.size = len(signed)
            document.verification = checks_as_dict(checks)
            fields = ["storage_name", "sha256", "size", "verification"]
            if party == "buyer":
                document.buyer_signed_at, document.buyer_signed_by = now, acting_user
                fields += ["buyer_signed_at", "buyer_signed_by"]
            else:
                document.holder_signed_at, document.holder_signed_by = now, acting_user
                fields += ["holder_signed_at", "holder_signed_by"]
            with scopes_disabled():
                document.save(update_fields=fields)
            # The earlier bytes are the first revisions of the new file: once committed, the old file is only
            # a duplicate. (Deleted after the commit, so that a rollback never loses the stored file.)
            transaction.on_commit(lambda: _delete_quietly(old_name))
            _audit(
                f"contracts.signed_{party}",
                actor=acting_user,
                contract=contract,
                data={
                    "document": document.pk,
                    "kind": document.kind,
                    "title": document.title,
                    "party": party,
                    "signer": name,
                    "certificate_subject": certificate.subject,
                    "certificate_fingerprint": certificate.fingerprint,
                    "sha256_before": before,
                    "sha256": digest,
                },
                request=request,
            )
    except Exception:
        if new_name:
            _delete_quietly(new_name)
        raise
    return document


def signed_by_both(document: ContractDocument) -> bool:
    return document.buyer_signed_at is not None and document.holder_signed_at is not None


def ready_to_notify(document: ContractDocument) -> bool:
    """Signed by whoever must sign it: an order form (bon de commande) is a unilateral act of the buyer
    under the framework agreement, signed by the buyer alone; every other piece by both parties."""
    if document.kind == DocumentKind.ORDER:
        return document.buyer_signed_at is not None
    return signed_by_both(document)


# --- Notification ---------------------------------------------------------------------------------


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
    from ebourgogne.awards import evidence
    from ebourgogne.awards.models import Letter, LetterEventKind, LetterKind
    from ebourgogne.notifications.services import send_templated_mail
    from ebourgogne.tenders.receipts import mail_recipients

    if letter_kind not in LetterKind.values:
        raise DomainError(_("Nature de courrier inconnue."), code="invalid_kind")
    new_name = None
    try:
        with transaction.atomic():
            document = lock(document)
            contract = document.contract
            require(acting_user, contract.organisation, MANAGE)
            if document.letter_id is not None or document.notified_at is not None:
                raise DomainError(_("Cette pièce est déjà notifiée au titulaire."), code="already_notified")
            if not ready_to_notify(document):
                message = (
                    _("Le bon de commande se notifie une fois signé par l'acheteur.")
                    if document.kind == DocumentKind.ORDER
                    else _("La pièce se notifie une fois signée par l'acheteur et par le titulaire.")
                )
                raise DomainError(message, code="not_signed")
            data = content(document)
            text = str(subject or "").strip()[:300] or document.title
            now = clock.now()
            with scopes_disabled():
                award = contract.award
                letter = Letter(
                    award=award,
                    consultation=contract.consultation,
                    company=contract.holder,
                    bid=contract.bid,
                    kind=letter_kind,
                    subject=text,
                    summary=str(summary or "").strip(),
                    sha256=document.sha256,
                    size=len(data),
                    created_at=now,
                    sent_at=now,
                )
                new_name = default_storage.save(
                    f"awards/letters/{contract.consultation_id}/{letter.uid}.pdf", ContentFile(data)
                )
                letter.storage_name = new_name
                letter.save()
            recipients = _recipients(contract, mail_recipients)
            link = settings.BASE_URL + reverse("awards_company:letter", args=[contract.holder.slug, letter.pk])
            for address, language in recipients:
                send_templated_mail(
                    template="awards/email/letter",
                    to=[address],
                    language=language,
                    context={
                        "letter": letter,
                        "consultation": contract.consultation,
                        "buyer": contract.organisation.name,
                        "link": link,
                    },
                )
            evidence.record(
                letter,
                LetterEventKind.SENT,
                {"recipients": [address for address, _language in recipients], "subject": letter.subject, "link": link},
            )
            document.letter = letter
            document.notified_at = now
            with scopes_disabled():
                document.save(update_fields=["letter", "notified_at"])
            _audit(
                NOTIFY_ACTIONS.get(letter_kind, "contracts.notified"),
                actor=acting_user,
                contract=contract,
                data={
                    "document": document.pk,
                    "kind": document.kind,
                    "letter": str(letter.uid),
                    "letter_kind": letter_kind,
                    "sha256": letter.sha256,
                    "recipients": [address for address, _language in recipients],
                },
                request=request,
            )
    except Exception:
        if new_name:
            _delete_quietly(new_name)
        raise
    return letter


def _recipients(contract: Contract, mail_recipients: Any) -> list[tuple[str, str]]:
    """The winning bid's depositor and the company's address (as for the award letters); without a bid,
    the company's address and its administrators'."""
    if contract.bid_id is not None:
        with scopes_disabled():
            bid = type(contract.bid).objects.select_related("deposited_by", "company").get(pk=contract.bid_id)
        found = mail_recipients(bid)
        if found:
            return found
    address = (contract.holder.email or "").strip()
    return [(address, settings.LANGUAGE_CODE)] if address else []
