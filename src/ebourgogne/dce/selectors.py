"""Reads of the DCE. Public reads go through `scopes_disabled()` here only, always filtered on a public
consultation and on published versions; buyer reads run inside the buyer's scope."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, OuterRef, Q, Subquery
from django_scopes import scopes_disabled

from ebourgogne.consultations.models import PUBLIC_STATES, Consultation
from ebourgogne.dce.models import DceFile, DceVersion, Download, Downloader


def identified_downloaders(consultation: Consultation):
    """The people to tell of changes and answers: identified downloaders who have not unsubscribed."""
    with scopes_disabled():
        return list(
            Downloader.objects.filter(consultation_id=consultation.pk, unsubscribed_at__isnull=True).order_by("pk")
        )


def current_version(consultation: Consultation) -> DceVersion | None:
    """The latest published version (the public DCE)."""
    with scopes_disabled():
        return (
            DceVersion.objects.filter(consultation_id=consultation.pk, published_at__isnull=False)
            .order_by("-number")
            .first()
        )


def files_of_version(version: DceVersion):
    with scopes_disabled():
        return list(
            DceFile.objects.filter(consultation_id=version.consultation_id, added_in__number__lte=version.number)
            .filter(Q(removed_in__isnull=True) | Q(removed_in__number__gt=version.number))
            .order_by("name")
        )


@dataclass
class PublicDce:
    consultation: Consultation
    version: DceVersion | None
    files: list[DceFile] = field(default_factory=list)
    rectifications: list[DceVersion] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        return sum(item.size for item in self.files)


def public_dce(consultation: Consultation) -> PublicDce:
    """What the public page shows: nothing of a draft consultation, nothing of a version being prepared."""
    if consultation.state not in PUBLIC_STATES:
        return PublicDce(consultation=consultation, version=None)
    version = current_version(consultation)
    if version is None:
        return PublicDce(consultation=consultation, version=None)
    with scopes_disabled():
        rectifications = list(
            DceVersion.objects.filter(
                consultation_id=consultation.pk, published_at__isnull=False, number__gt=1
            ).order_by("-number")
        )
    return PublicDce(
        consultation=consultation, version=version, files=files_of_version(version), rectifications=rectifications
    )


def _current_version_subquery():
    return Subquery(
        DceVersion.objects.filter(consultation_id=OuterRef("consultation_id"), published_at__isnull=False)
        .order_by("-number")
        .values("pk")[:1]
    )


def downloadable_file(*, consultation_id: int, file_id: int) -> tuple[DceFile, int] | None:
    """(file, id of the current version) when the file belongs to the current published DCE of a public
    consultation; None otherwise. One query."""
    with scopes_disabled():
        found = (
            DceFile.objects.filter(
                pk=file_id,
                consultation_id=consultation_id,
                consultation__state__in=PUBLIC_STATES,
                added_in__published_at__isnull=False,
            )
            .filter(Q(removed_in__isnull=True) | Q(removed_in__published_at__isnull=True))
            .annotate(current_version_id=_current_version_subquery())
            .only("pk", "name", "size", "content_type", "sha256", "storage_name", "consultation_id")
            .first()
        )
    if found is None:
        return None
    return found, found.current_version_id


def downloadable_archive(*, consultation_id: int) -> DceVersion | None:
    """The current published version of a public consultation, when its ZIP is ready. One query."""
    with scopes_disabled():
        version = (
            DceVersion.objects.filter(
                consultation_id=consultation_id, consultation__state__in=PUBLIC_STATES, published_at__isnull=False
            )
            .order_by("-number")
            .first()
        )
    return version


def public_consultation(pk: int) -> Consultation | None:
    with scopes_disabled():
        return Consultation.objects.filter(pk=pk, state__in=PUBLIC_STATES).select_related("organisation").first()


# --- Buyer side (inside the buyer's scope) ----------------------------------------------------------


def buyer_consultation(*, organisation: Any, pk: int) -> Consultation | None:
    return Consultation.objects.filter(organisation=organisation, pk=pk).first()


def buyer_file(*, consultation: Consultation, file_id: int) -> DceFile | None:
    return (
        DceFile.objects.filter(consultation=consultation, pk=file_id).select_related("added_in", "removed_in").first()
    )


def versions(consultation: Consultation) -> list[DceVersion]:
    return list(
        DceVersion.objects.filter(consultation=consultation)
        .annotate(downloads_count=Count("downloads"))
        .order_by("-number")
    )


def files_being_prepared(consultation: Consultation) -> list[DceFile]:
    """The DCE as it stands in the buyer's hands: the current files, changes included."""
    return list(
        DceFile.objects.filter(consultation=consultation, removed_in__isnull=True)
        .select_related("added_in")
        .order_by("name")
    )


def removed_in_draft(consultation: Consultation) -> list[DceFile]:
    return list(
        DceFile.objects.filter(
            consultation=consultation, removed_in__published_at__isnull=True, removed_in__isnull=False
        ).order_by("name")
    )


def download_register(consultation: Consultation):
    """Every download, newest first, with who (when identified), the version and the file."""
    return (
        Download.objects.filter(consultation=consultation)
        .select_related("downloader", "version", "file")
        .order_by("-downloaded_at", "-pk")
    )


@dataclass
class RegisterSummary:
    total: int
    anonymous: int
    identified: int
    downloaders: int


def register_summary(consultation: Consultation) -> RegisterSummary:
    counts = Download.objects.filter(consultation=consultation).aggregate(
        total=Count("pk"), anonymous=Count("pk", filter=Q(downloader__isnull=True))
    )
    return RegisterSummary(
        total=counts["total"],
        anonymous=counts["anonymous"],
        identified=counts["total"] - counts["anonymous"],
        downloaders=Downloader.objects.filter(consultation=consultation).count(),
    )
