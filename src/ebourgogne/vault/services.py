"""Every change to the vault and its rules, audited.

- `document_create` / `version_add`: the file arrives already encrypted (`storage.VaultUploadHandler` or
  `storage.encrypt_upload`); here the name and dates are checked, the encrypted file is moved into place
  and the rows written. A refusal discards the encrypted temporary file; nothing stored before is touched.
  Dates: the validity end date may not be before the issue date; an issue date in the future is refused.
- `document_delete`: soft; the document leaves lists, downloads and grants, its versions stay on disk for
  the audit trail's sake (retention follows the bids': kept with the company's account).
- `open_version`: checks the whole stored file (decrypt, size, SHA-256) before anything is sent, then
  gives a generator of plaintext chunks. A damaged file is refused with `VaultIntegrityError` turned into
  a DomainError (code "integrity") and an audit event.
- `grant_create` / `grant_revoke` (R2143-13): a company admin lets the staff of the buyer of one
  consultation read the current versions of chosen documents (or all), and takes it back.
- `send_expiry_reminders(today)`: for each threshold (`VAULT_REMINDER_DAYS`, 30 and 7 by default), every
  document whose validity ends within that many days and which has no `ReminderSent` row for (document,
  threshold, validity end) gets one e-mail to the company's admins and members. The row is written in the
  same transaction as the mail is queued (the mail leaves after the commit), so a rerun sends nothing twice;
  when both thresholds are due at once (a document uploaded a week before its end) only the nearest is sent
  and the farther one is recorded as passed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.dce.uploads import check_file_name
from ebourgogne.vault import crypto, storage
from ebourgogne.vault.models import (
    DocumentType,
    ReminderSent,
    VaultDocument,
    VaultDocumentVersion,
    VaultGrant,
)

MAX_TITLE_LENGTH = 200
REMINDER_DAYS_DEFAULT = (30, 7)


def reminder_days() -> list[int]:
    days = getattr(settings, "VAULT_REMINDER_DAYS", REMINDER_DAYS_DEFAULT)
    return sorted({int(day) for day in days if int(day) >= 0}, reverse=True)


def _require_company(company: Any) -> None:
    if not getattr(company, "is_company", False):
        raise NotFound(_("Ce coffre-fort n'existe pas."))


def check_details(*, doc_type: str, title: str, issue_date: dt.date | None, valid_until: dt.date | None) -> str:
    if doc_type not in DocumentType.values:
        raise DomainError(_("Choisissez un type de document dans la liste."), code="doc_type")
    title = (title or "").strip()
    if not title:
        raise DomainError(_("Donnez un intitulé au document."), code="title")
    if len(title) > MAX_TITLE_LENGTH:
        raise DomainError(
            _("L'intitulé ne peut pas dépasser %(max)d caractères.") % {"max": MAX_TITLE_LENGTH}, code="title"
        )
    check_dates(issue_date, valid_until)
    return title


def check_dates(issue_date: dt.date | None, valid_until: dt.date | None) -> None:
    if issue_date and valid_until and valid_until < issue_date:
        raise DomainError(
            _(
                "La date de fin de validité (%(end)s) est antérieure à la date de délivrance (%(start)s) : corrigez l'une des deux."
            )
            % {"end": valid_until.strftime("%d/%m/%Y"), "start": issue_date.strftime("%d/%m/%Y")},
            code="valid_until",
        )
    if issue_date and issue_date > clock.today_local():
        raise DomainError(_("La date de délivrance ne peut pas être dans le futur."), code="issue_date")


def _store_version(
    *, document: VaultDocument, upload: storage.EncryptedUpload, acting_user: Any, number: int
) -> VaultDocumentVersion:
    name = check_file_name(upload.name)
    storage_name = storage.storage_name_for(document.company_id, upload.file_id)
    version = VaultDocumentVersion.objects.create(
        document=document,
        number=number,
        file_id=upload.file_id,
        storage_name=storage_name,
        original_name=name,
        content_type=storage.content_type_for(name),
        size=upload.size,
        stored_size=upload.stored_size,
        sha256=upload.sha256,
        issue_date=document.issue_date,
        valid_until=document.valid_until,
        uploaded_at=clock.now(),
        uploaded_by=acting_user,
    )
    storage.move_into_place(upload.path, storage_name)
    return version


def document_create(
    *,
    acting_user: Any,
    company: Any,
    doc_type: str,
    title: str,
    issue_date: dt.date | None,
    valid_until: dt.date | None,
    upload: storage.EncryptedUpload,
    request: Any = None,
) -> VaultDocument:
    try:
        _require_company(company)
        title = check_details(doc_type=doc_type, title=title, issue_date=issue_date, valid_until=valid_until)
        check_file_name(upload.name)
        with transaction.atomic():
            document = VaultDocument.objects.create(
                company=company,
                doc_type=doc_type,
                title=title,
                issue_date=issue_date,
                valid_until=valid_until,
                created_by=acting_user,
            )
            version = _store_version(document=document, upload=upload, acting_user=acting_user, number=1)
            document.current_version = version
            document.save(update_fields=["current_version"])
            log_event(
                action="vault.document.created",
                actor=acting_user,
                organisation=company,
                obj=document,
                data={"type": doc_type, "file": version.original_name, "size": version.size, "sha256": version.sha256},
                request=request,
            )
    finally:
        upload.discard()  # moved into place on success; dropped otherwise
    return document


def version_add(
    *,
    acting_user: Any,
    company: Any,
    document: VaultDocument,
    issue_date: dt.date | None,
    valid_until: dt.date | None,
    upload: storage.EncryptedUpload,
    request: Any = None,
) -> VaultDocumentVersion:
    try:
        _require_company(company)
        if document.company_id != company.pk or document.deleted_at is not None:
            raise NotFound(_("Ce document n'existe pas."))
        check_dates(issue_date, valid_until)
        check_file_name(upload.name)
        with transaction.atomic():
            locked = VaultDocument.objects.select_for_update().get(pk=document.pk)
            locked.issue_date = issue_date
            locked.valid_until = valid_until
            number = (locked.versions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
            version = _store_version(document=locked, upload=upload, acting_user=acting_user, number=number)
            locked.current_version = version
            locked.save(update_fields=["issue_date", "valid_until", "current_version"])
            log_event(
                action="vault.version.added",
                actor=acting_user,
                organisation=company,
                obj=locked,
                data={"version": number, "file": version.original_name, "size": version.size, "sha256": version.sha256},
                request=request,
            )
    finally:
        upload.discard()
    document.refresh_from_db()
    return version


def document_delete(*, acting_user: Any, company: Any, document: VaultDocument, request: Any = None) -> None:
    if document.company_id != company.pk or document.deleted_at is not None:
        raise NotFound(_("Ce document n'existe pas."))
    with transaction.atomic():
        document.deleted_at = clock.now()
        document.deleted_by = acting_user
        document.save(update_fields=["deleted_at", "deleted_by"])
        log_event(
            action="vault.document.deleted", actor=acting_user, organisation=company, obj=document, request=request
        )


def open_version(
    version: VaultDocumentVersion,
    *,
    acting_user: Any,
    organisation: Any,
    via_grant: VaultGrant | None = None,
    request: Any = None,
):
    """Check the stored file whole, log the download, and give a generator of its plaintext chunks."""
    company = version.document.company
    path = storage.path_of(version.storage_name)
    try:
        data_key = storage.data_key_for(company)
        with path.open("rb") as handle:
            crypto.verify(
                data_key, handle, expected_file_id=version.file_id.bytes, sha256=version.sha256, size=version.size
            )
    except (crypto.VaultIntegrityError, FileNotFoundError) as error:
        log_event(
            action="vault.integrity.failed",
            actor=acting_user,
            organisation=company,
            obj=version.document,
            data={"version": version.number, "reason": str(error)[:200]},
            request=request,
        )
        raise DomainError(
            _(
                "Le fichier conservé pour ce document est endommagé ou incomplet : il ne peut pas être délivré. "
                "Déposez-en une nouvelle version ; l'incident est enregistré dans le journal."
            ),
            code="integrity",
        ) from error
    data: dict[str, Any] = {"version": version.number, "file": version.original_name}
    if via_grant is not None:
        data.update({"grant": via_grant.pk, "consultation": via_grant.consultation_id, "buyer": via_grant.buyer_id})
    log_event(
        action="vault.document.downloaded",
        actor=acting_user,
        organisation=organisation,
        obj=version.document,
        data=data,
        request=request,
    )

    def chunks():
        with path.open("rb") as handle:
            yield from crypto.decrypt_chunks(data_key, handle, expected_file_id=version.file_id.bytes)

    return chunks()


# --- R2143-13 grants ----------------------------------------------------------------------------------


def grant_create(
    *,
    acting_user: Any,
    company: Any,
    consultation_id: int | None,
    all_documents: bool,
    document_ids: list[int],
    request: Any = None,
) -> VaultGrant:
    from ebourgogne.vault import selectors

    _require_company(company)
    consultation = selectors.grantable_consultation(company=company, consultation_id=consultation_id)
    if consultation is None:
        raise DomainError(_("Choisissez une consultation dans la liste."), code="consultation")
    documents = []
    if not all_documents:
        wanted = set(document_ids)
        documents = [d for d in selectors.documents_of(company=company) if d.pk in wanted]
        if not documents or len(documents) != len(wanted):
            raise DomainError(
                _("Choisissez au moins un document du coffre-fort, ou « tous les documents »."), code="documents"
            )
    with transaction.atomic():
        grant = VaultGrant.objects.create(
            company=company,
            buyer_id=consultation.organisation_id,
            consultation=consultation,
            all_documents=all_documents,
            granted_at=clock.now(),
            granted_by=acting_user,
        )
        grant.documents.set(documents)
        log_event(
            action="vault.grant.created",
            actor=acting_user,
            organisation=company,
            obj=grant,
            data={
                "buyer": consultation.organisation.name,
                "consultation": consultation.reference,
                "all_documents": all_documents,
                "documents": [d.pk for d in documents],
            },
            request=request,
        )
        log_event(
            action="vault.grant.received",
            actor=acting_user,
            organisation=consultation.organisation,
            obj=grant,
            data={"company": company.name, "siren": company.siren, "consultation": consultation.reference},
            request=request,
        )
    return grant


def grant_revoke(*, acting_user: Any, company: Any, grant: VaultGrant, request: Any = None) -> None:
    if grant.company_id != company.pk:
        raise NotFound(_("Cet accès n'existe pas."))
    if grant.revoked_at is not None:
        raise PermissionRefused(_("Cet accès est déjà révoqué."), code="revoked")
    with transaction.atomic():
        grant.revoked_at = clock.now()
        grant.revoked_by = acting_user
        grant.save(update_fields=["revoked_at", "revoked_by"])
        log_event(
            action="vault.grant.revoked",
            actor=acting_user,
            organisation=company,
            obj=grant,
            data={"buyer": grant.buyer.name, "consultation": grant.consultation.reference},
            request=request,
        )
        log_event(
            action="vault.grant.revoked",
            actor=acting_user,
            organisation=grant.buyer,
            obj=grant,
            data={"company": company.name, "consultation": grant.consultation.reference},
            request=request,
        )


# --- Expiry reminders ---------------------------------------------------------------------------------


def _recipients(company: Any) -> list[Any]:
    from ebourgogne.organisations.selectors import members_with

    return members_with(organisation=company, permission="vault.view")


def send_expiry_reminders(today: dt.date | None = None) -> dict[str, int]:
    """Send the reminders due on `today` (Paris date). Idempotent: see the module's docstring."""
    from ebourgogne.notifications.services import send_templated_mail

    today = today or clock.today_local()
    thresholds = reminder_days()
    if not thresholds:
        return {"sent": 0, "documents": 0}
    farthest = thresholds[0]
    sent = 0
    documents = 0
    with scopes_disabled():
        candidates = list(
            VaultDocument.objects.filter(
                deleted_at__isnull=True,
                company__is_active=True,
                valid_until__isnull=False,
                valid_until__gte=today,
                valid_until__lte=today + dt.timedelta(days=farthest),
            )
            .select_related("company")
            .order_by("pk")
        )
        for document in candidates:
            days_left = (document.valid_until - today).days
            due = [t for t in thresholds if days_left <= t]
            if not due:
                continue
            nearest = min(due)
            with transaction.atomic():
                done = set(
                    ReminderSent.objects.filter(document=document, valid_until=document.valid_until).values_list(
                        "threshold_days", flat=True
                    )
                )
                if nearest in done:
                    continue
                try:
                    with transaction.atomic():
                        for threshold in due:
                            if threshold not in done:
                                ReminderSent.objects.create(
                                    document=document,
                                    threshold_days=threshold,
                                    valid_until=document.valid_until,
                                    sent_at=clock.now(),
                                    recipients=0,
                                )
                except IntegrityError:  # another run got there first
                    continue
                recipients = _recipients(document.company)
                for user in recipients:
                    language = getattr(user, "language", "") or settings.LANGUAGE_CODE
                    with translation.override(language):
                        send_templated_mail(
                            template="vault/email/expiry",
                            to=[user.email],
                            language=language,
                            context={
                                "document": document,
                                "doc_type": document.get_doc_type_display(),
                                "company": document.company,
                                "days_left": days_left,
                                "valid_until": document.valid_until,
                                "page_path": f"/organisations/{document.company.slug}/coffre-fort/{document.pk}/",
                            },
                        )
                ReminderSent.objects.filter(
                    document=document, threshold_days=nearest, valid_until=document.valid_until
                ).update(recipients=len(recipients))
                sent += len(recipients)
                documents += 1
    return {"sent": sent, "documents": documents}
