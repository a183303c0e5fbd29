"""Every change to the tender files (DCE): uploads, removals, publication, rectifications, downloads.

The DCE being prepared is the consultation's draft version (`DceVersion.published_at` is None), created
on the first change. Before the consultation is published the buyer edits version 1 freely; the
`consultation_published` signal publishes it with the consultation. After publication, a change opens
version N+1, which the buyer publishes with a mandatory reason: a rectification, shown on the public
page, logged, and e-mailed to every identified downloader who has not unsubscribed.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any

from django.core import signing
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from ebourgogne.audit.services import log_event
from ebourgogne.consultations.models import PUBLIC_STATES, Consultation, State
from ebourgogne.consultations.signals import consultation_published
from ebourgogne.core import clock
from ebourgogne.core.errors import DomainError, NotFound, PermissionRefused
from ebourgogne.core.tasks import enqueue_on_commit
from ebourgogne.dce.models import DceFile, DceVersion, Download, Downloader
from ebourgogne.dce.uploads import check_file_name, content_type_of, sha256_of
from ebourgogne.notifications.services import send_templated_mail
from ebourgogne.organisations.roles import roles_grant
from ebourgogne.organisations.selectors import roles_of

logger = logging.getLogger("ebourgogne.dce")

# States in which the buyer may still change the DCE.
EDITABLE_STATES = frozenset({State.DRAFT, State.PUBLISHED})
MAX_REASON_LENGTH = 5000
UNSUBSCRIBE_SALT = "ebourgogne.dce.unsubscribe"


# --- Helpers ----------------------------------------------------------------------------------------


def _require(acting_user: Any, consultation: Consultation, permission: str = "dce.manage") -> None:
    roles = roles_of(user=acting_user, organisation=consultation.organisation)
    if not roles:
        raise NotFound(_("Consultation introuvable."))
    if not roles_grant(roles, permission):
        raise PermissionRefused(_("Votre rôle dans cette organisation ne permet pas cette action."))


def _lock(consultation: Consultation) -> Consultation:
    """Lock the consultation: changes to one DCE run one at a time."""
    with scopes_disabled():
        return (
            Consultation.objects.select_for_update(no_key=True, of=("self",))
            .select_related("organisation")
            .get(pk=consultation.pk)
        )


def _check_editable(consultation: Consultation) -> None:
    if consultation.state not in EDITABLE_STATES:
        raise DomainError(
            _("La consultation est « %(state)s » : son DCE ne peut plus être modifié.")
            % {"state": consultation.get_state_display()},
            code="not_editable",
        )


def draft_version(consultation: Consultation) -> DceVersion | None:
    with scopes_disabled():
        return DceVersion.objects.filter(consultation=consultation, published_at__isnull=True).first()


def _draft_version_or_create(consultation: Consultation, acting_user: Any) -> DceVersion:
    version = draft_version(consultation)
    if version is not None:
        return version
    with scopes_disabled():
        last = DceVersion.objects.filter(consultation=consultation).order_by("-number").first()
        return DceVersion.objects.create(
            consultation=consultation, number=(last.number + 1) if last else 1, created_by=acting_user
        )


def current_files_of_draft(version: DceVersion):
    """The files the draft version holds: present before or added in it, not removed."""
    with scopes_disabled():
        return DceFile.objects.filter(
            consultation_id=version.consultation_id, added_in__number__lte=version.number, removed_in__isnull=True
        )


def used_bytes(consultation: Consultation) -> int:
    """Size of the DCE being prepared (or of the current one when nothing is being prepared)."""
    with scopes_disabled():
        total = DceFile.objects.filter(consultation=consultation, removed_in__isnull=True).aggregate(total=Sum("size"))
    return int(total["total"] or 0)


def room_left(consultation: Consultation) -> int:
    return max(consultation.dce_size_limit - used_bytes(consultation), 0)


def human_size(size: int) -> str:
    """1 536 → "1,5 Ko" (French units: octets, Ko, Mo, Go), in the active language's number format."""
    from django.template.defaultfilters import filesizeformat

    return str(filesizeformat(size))


def _storage_name(consultation: Consultation) -> str:
    """Generated; nothing from the user's file name reaches the file system."""
    return f"dce/{consultation.pk}/{secrets.token_hex(16)}"


# --- Files ------------------------------------------------------------------------------------------


def upload_file(
    *,
    acting_user: Any,
    consultation: Consultation,
    uploaded: Any,
    name: str | None = None,
    request: Any = None,
    replacing: DceFile | None = None,
) -> DceFile:
    """Add `uploaded` (a Django UploadedFile, ideally from `DceUploadHandler`) to the DCE being prepared.

    Refused: an empty file, a bad name, a name already in this version, a DCE over the consultation's
    size limit, a consultation no longer open to changes. `replacing`: a file of this version that the
    new one replaces (removed in the same step; the names may differ).
    """
    _require(acting_user, consultation)
    file_name = check_file_name(name if name is not None else getattr(uploaded, "name", ""))
    size = int(getattr(uploaded, "size", 0) or 0)
    if size <= 0:
        raise DomainError(
            _("Le fichier « %(name)s » est vide : déposez un fichier qui a un contenu.") % {"name": file_name},
            code="empty_file",
        )
    with transaction.atomic():
        consultation = _lock(consultation)
        _check_editable(consultation)
        version = _draft_version_or_create(consultation, acting_user)
        present = current_files_of_draft(version)
        if replacing is not None:
            if not present.filter(pk=replacing.pk).exists():
                raise NotFound(_("Ce fichier ne fait pas partie du DCE en préparation."))
            present = present.exclude(pk=replacing.pk)
        if present.filter(name=file_name).exists():
            raise DomainError(
                _(
                    "Un fichier nommé « %(name)s » fait déjà partie du DCE : renommez le nouveau fichier ou remplacez l'ancien."
                )
                % {"name": file_name},
                code="duplicate_name",
            )
        total = int(present.aggregate(total=Sum("size"))["total"] or 0)
        if total + size > consultation.dce_size_limit:
            raise DomainError(
                _("Le DCE ne peut pas dépasser %(limit)s ; il reste %(left)s pour ce fichier de %(size)s.")
                % {
                    "limit": human_size(consultation.dce_size_limit),
                    "left": human_size(max(consultation.dce_size_limit - total, 0)),
                    "size": human_size(size),
                },
                code="too_large",
            )
        sha256 = sha256_of(uploaded)
        storage_name = default_storage.save(_storage_name(consultation), uploaded)
        try:
            if replacing is not None:
                _remove(replacing, version)
            with scopes_disabled():
                dce_file = DceFile.objects.create(
                    consultation=consultation,
                    name=file_name,
                    size=size,
                    content_type=content_type_of(file_name, getattr(uploaded, "content_type", None)),
                    sha256=sha256,
                    storage_name=storage_name,
                    added_in=version,
                    uploaded_by=acting_user,
                )
            log_event(
                action="dce.file.replaced" if replacing is not None else "dce.file.added",
                actor=acting_user,
                organisation=consultation.organisation,
                obj=consultation,
                data={
                    "version": version.number,
                    "file": file_name,
                    "size": size,
                    "sha256": sha256,
                    **({"replaced": replacing.name} if replacing is not None else {}),
                },
                request=request,
            )
        except BaseException:
            default_storage.delete(storage_name)
            raise
    return dce_file


def _remove(dce_file: DceFile, version: DceVersion) -> None:
    """Take `dce_file` out of the draft `version`: gone for good if it was added in it, else marked."""
    with scopes_disabled():
        if dce_file.added_in_id == version.pk:
            storage_name = dce_file.storage_name
            dce_file.delete()
            transaction.on_commit(lambda: default_storage.delete(storage_name))
        else:
            DceFile.objects.filter(pk=dce_file.pk).update(removed_in=version)


def remove_file(*, acting_user: Any, consultation: Consultation, dce_file: DceFile, request: Any = None) -> None:
    _require(acting_user, consultation)
    with transaction.atomic():
        consultation = _lock(consultation)
        _check_editable(consultation)
        if dce_file.consultation_id != consultation.pk or dce_file.removed_in_id is not None:
            raise NotFound(_("Ce fichier ne fait pas partie du DCE en préparation."))
        version = _draft_version_or_create(consultation, acting_user)
        _remove(dce_file, version)
        log_event(
            action="dce.file.removed",
            actor=acting_user,
            organisation=consultation.organisation,
            obj=consultation,
            data={"version": version.number, "file": dce_file.name},
            request=request,
        )


def replace_file(
    *, acting_user: Any, consultation: Consultation, dce_file: DceFile, uploaded: Any, request: Any = None
) -> DceFile:
    return upload_file(
        acting_user=acting_user, consultation=consultation, uploaded=uploaded, request=request, replacing=dce_file
    )


def has_changes(version: DceVersion) -> bool:
    """Whether the version adds or removes a file."""
    with scopes_disabled():
        return version.added_files.exists() or version.removed_files.exists()


# --- Publication ------------------------------------------------------------------------------------


@receiver(consultation_published, dispatch_uid="dce.publish_with_consultation")
def publish_with_consultation(sender: Any = None, *, consultation: Consultation, **kwargs: Any) -> None:
    """The consultation is published: its DCE being prepared becomes version 1, public from now on."""
    version = draft_version(consultation)
    if version is None or not has_changes(version):
        return
    with scopes_disabled():
        version.published_at = consultation.published_at or clock.now()
        version.save(update_fields=["published_at"])
    log_event(
        action="dce.published",
        actor=None,
        organisation=consultation.organisation,
        obj=consultation,
        data={"version": version.number, "files": current_files_of_draft(version).count()},
    )
    _build_archive_later(version)


def publish_changes(*, acting_user: Any, consultation: Consultation, reason: str, request: Any = None) -> DceVersion:
    """Publish the DCE being prepared of a published consultation as a rectification, with its reason,
    and tell every identified downloader."""
    _require(acting_user, consultation)
    reason = str(reason or "").strip()
    if not reason:
        raise DomainError(
            _("Indiquez le motif de la modification : il est publié avec le rectificatif."), code="reason_required"
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise DomainError(
            _("Le motif ne peut pas dépasser %(max)d caractères.") % {"max": MAX_REASON_LENGTH}, code="reason_long"
        )
    with transaction.atomic():
        consultation = _lock(consultation)
        if consultation.state != State.PUBLISHED:
            if consultation.state == State.DRAFT:
                raise DomainError(
                    _("La consultation n'est pas encore publiée : son DCE sera publié avec elle."), code="not_published"
                )
            _check_editable(consultation)
            raise DomainError(_("Le DCE ne peut plus être modifié."), code="not_editable")
        version = draft_version(consultation)
        if version is None or not has_changes(version):
            raise DomainError(_("Aucune modification du DCE n'attend d'être publiée."), code="nothing_to_publish")
        with scopes_disabled():
            version.published_at = clock.now()
            version.reason = reason
            version.save(update_fields=["published_at", "reason"])
            added = list(version.added_files.values_list("name", flat=True))
            removed = list(version.removed_files.values_list("name", flat=True))
        log_event(
            action="dce.rectification.published" if version.is_rectification else "dce.published",
            actor=acting_user,
            organisation=consultation.organisation,
            obj=consultation,
            data={"version": version.number, "reason": reason, "added": added, "removed": removed},
            request=request,
        )
        _notify_downloaders(consultation, version, added=added, removed=removed)
        _build_archive_later(version)
    return version


def _build_archive_later(version: DceVersion) -> None:
    from ebourgogne.dce.tasks import build_archive

    enqueue_on_commit(build_archive, version.pk)


def _absolute(path: str) -> str:
    from django.conf import settings

    return f"{settings.BASE_URL}{path}"


def consultation_public_path(consultation_id: int) -> str:
    """The public page of a consultation (the consultations app's URL, else its known path)."""
    from django.urls import NoReverseMatch

    try:
        return reverse("consultations_public:detail", kwargs={"pk": consultation_id})
    except NoReverseMatch:
        return f"/consultations/{consultation_id}/"


def unsubscribe_token(downloader: Downloader) -> str:
    return signing.dumps(downloader.pk, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(downloader: Downloader) -> str:
    return _absolute(
        reverse(
            "dce_public:unsubscribe", kwargs={"pk": downloader.consultation_id, "token": unsubscribe_token(downloader)}
        )
    )


def _notify_downloaders(
    consultation: Consultation, version: DceVersion, *, added: list[str], removed: list[str]
) -> None:
    from ebourgogne.alerts.services import alerts_page_url, follow_headers
    from ebourgogne.dce.selectors import identified_downloaders

    consultation_url = _absolute(consultation_public_path(consultation.pk))
    for downloader in identified_downloaders(consultation):
        send_templated_mail(
            template="dce/email/rectification",
            to=[downloader.email],
            language=downloader.language,
            context={
                "consultation_title": consultation.title,
                "consultation_reference": consultation.reference,
                "buyer_name": consultation.organisation.name,
                "version_number": version.number,
                "reason": version.reason,
                "published_at": version.published_at,
                "added": added,
                "removed": removed,
                "consultation_url": consultation_url,
                "unsubscribe_url": unsubscribe_url(downloader),
                "downloader_name": downloader.name,
                "alerts_url": alerts_page_url(),
            },
            headers=follow_headers(consultation.pk, downloader.email),  # RFC 8058 one-click unsubscribe
        )


# --- Downloaders and downloads (public) -------------------------------------------------------------


def register_downloader(
    *,
    consultation: Consultation,
    email: str,
    name: str = "",
    company_name: str = "",
    user: Any = None,
    company: Any = None,
    language: str = "fr",
) -> Downloader:
    """Remember who downloads (optional identification): told of rectifications and answers. A second
    registration with the same address updates it and subscribes it again."""
    if consultation.state not in PUBLIC_STATES:
        raise NotFound(_("Consultation introuvable."))
    email = str(email or "").strip().lower()
    try:
        validate_email(email)
    except Exception:
        raise DomainError(
            _("Saisissez une adresse électronique valide, par exemple marie.dupont@exemple.fr."), code="email"
        ) from None
    name = " ".join(str(name or "").split())[:150]
    company_name = " ".join(str(company_name or "").split())[:255]
    language = language if language in ("fr", "en") else "fr"
    values = {"name": name, "company_name": company_name, "language": language, "unsubscribed_at": None}
    if user is not None and getattr(user, "is_authenticated", False):
        values["user"] = user
    if company is not None:
        values["company"] = company
    with scopes_disabled(), transaction.atomic():
        try:
            downloader, _created = Downloader.objects.update_or_create(
                consultation=consultation, email=email, defaults=values
            )
        except IntegrityError:  # two registrations at once: the other one won
            downloader = Downloader.objects.get(consultation=consultation, email=email)
    return downloader


def register_account_downloader(*, consultation: Consultation, user: Any, company: Any) -> Downloader:
    """A signed-in company user who downloads is identified by their account, without a form. An existing
    registration of the same address is linked to the account and keeps its choice about mails."""
    if consultation.state not in PUBLIC_STATES:
        raise NotFound(_("Consultation introuvable."))
    email = user.email.strip().lower()
    with scopes_disabled(), transaction.atomic():
        try:
            downloader, created = Downloader.objects.get_or_create(
                consultation=consultation,
                email=email,
                defaults={
                    "name": (user.full_name or "")[:150],
                    "company_name": company.name[:255],
                    "user": user,
                    "company": company,
                    "language": getattr(user, "language", "fr") or "fr",
                },
            )
        except IntegrityError:  # registered at the same moment by another request
            downloader, created = Downloader.objects.get(consultation=consultation, email=email), False
        if not created and downloader.user_id is None:
            Downloader.objects.filter(pk=downloader.pk).update(user=user, company=company)
    return downloader


def unsubscribe(*, token: str) -> Downloader:
    """Stop the mails of one consultation for the downloader named by a signed token (from the mail)."""
    try:
        pk = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        raise NotFound(_("Ce lien de désinscription n'est pas valide.")) from None
    with scopes_disabled(), transaction.atomic():
        downloader = Downloader.objects.select_for_update().filter(pk=pk).first()
        if downloader is None:
            raise NotFound(_("Ce lien de désinscription n'est pas valide."))
        if downloader.unsubscribed_at is None:
            downloader.unsubscribed_at = clock.now()
            downloader.save(update_fields=["unsubscribed_at"])
    return downloader


def record_download(*, consultation_id: int, version_id: int, file_id: int | None, downloader_id: int | None) -> None:
    """One row in the register: a single INSERT, so downloads stay fast."""
    with scopes_disabled():
        Download.objects.create(
            consultation_id=consultation_id,
            version_id=version_id,
            file_id=file_id,
            downloader_id=downloader_id,
            downloaded_at=clock.now(),
        )
