"""The tender files (DCE) of a consultation: versioned files, their ZIP per version, downloads.

Files are never modified in place: a new upload or a removal opens the next version. Version 1 is the
DCE as published; each later version published is a rectification (rectificatif) with its reason.
The register of downloads keeps who (when identified), when, which version and which file.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager


class DceVersion(models.Model):
    consultation = models.ForeignKey(
        "consultations.Consultation", on_delete=models.CASCADE, related_name="dce_versions"
    )
    number = models.PositiveIntegerField(_("version"))
    reason = models.TextField(_("motif de la modification"), blank=True)  # required for rectifications
    published_at = models.DateTimeField(_("publiée le"), null=True, blank=True)  # None: being prepared
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    # The whole DCE of this version as one ZIP, built once after publication.
    archive_name = models.CharField(max_length=500, blank=True)  # storage name
    archive_size = models.BigIntegerField(null=True, blank=True)
    archive_sha256 = models.CharField(max_length=64, blank=True)
    archive_ready_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="consultation__organisation")

    class Meta:
        verbose_name = _("version du DCE")
        verbose_name_plural = _("versions du DCE")
        ordering = ["consultation", "number"]
        constraints = [models.UniqueConstraint(fields=["consultation", "number"], name="dce_version_unique")]

    def __str__(self) -> str:
        return f"DCE v{self.number}"

    @property
    def is_rectification(self) -> bool:
        return self.number > 1


class DceFile(models.Model):
    """One file of the DCE, present from version `added_in` until `removed_in` (excluded), if ever."""

    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.CASCADE, related_name="dce_files")
    name = models.CharField(_("nom du fichier"), max_length=255)  # cleaned: no path separator, no control character
    size = models.BigIntegerField(_("taille (octets)"))
    content_type = models.CharField(_("format"), max_length=150)
    sha256 = models.CharField(max_length=64)
    storage_name = models.CharField(max_length=500)
    added_in = models.ForeignKey(DceVersion, on_delete=models.CASCADE, related_name="added_files")
    removed_in = models.ForeignKey(
        DceVersion, on_delete=models.CASCADE, null=True, blank=True, related_name="removed_files"
    )
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager(organisation="consultation__organisation")

    class Meta:
        verbose_name = _("fichier du DCE")
        verbose_name_plural = _("fichiers du DCE")
        ordering = ["consultation", "name"]
        indexes = [models.Index(fields=["consultation", "removed_in"], name="dce_file_current")]

    def __str__(self) -> str:
        return self.name


class Downloader(models.Model):
    """Someone who identified themselves when downloading (or a signed-in company user): they are told of
    rectifications and answers for this consultation until they unsubscribe."""

    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.CASCADE, related_name="downloaders")
    email = models.EmailField(_("adresse électronique"))
    name = models.CharField(_("nom"), max_length=150, blank=True)
    company_name = models.CharField(_("entreprise"), max_length=255, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    company = models.ForeignKey(
        "organisations.Organisation", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    language = models.CharField(max_length=8, default="fr")
    created_at = models.DateTimeField(auto_now_add=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager(organisation="consultation__organisation")

    class Meta:
        verbose_name = _("retrait identifié")
        verbose_name_plural = _("retraits identifiés")
        constraints = [models.UniqueConstraint(fields=["consultation", "email"], name="dce_downloader_unique")]

    def __str__(self) -> str:
        return self.email


class Download(models.Model):
    """One download: a file (`file`) or the whole ZIP of a version (`file` = None). Anonymous when
    `downloader` is None."""

    consultation = models.ForeignKey("consultations.Consultation", on_delete=models.CASCADE, related_name="downloads")
    version = models.ForeignKey(DceVersion, on_delete=models.CASCADE, related_name="downloads")
    file = models.ForeignKey(DceFile, on_delete=models.CASCADE, null=True, blank=True, related_name="downloads")
    downloader = models.ForeignKey(
        Downloader, on_delete=models.SET_NULL, null=True, blank=True, related_name="downloads"
    )
    downloaded_at = models.DateTimeField(_("téléchargé le"))

    objects = ScopedManager(organisation="consultation__organisation")

    class Meta:
        verbose_name = _("téléchargement")
        verbose_name_plural = _("téléchargements")
        ordering = ["-downloaded_at"]
        indexes = [
            models.Index(fields=["consultation", "-downloaded_at"], name="dce_download_register"),
            models.Index(fields=["consultation"], condition=Q(downloader__isnull=True), name="dce_download_anonymous"),
        ]

    def __str__(self) -> str:
        return f"{self.consultation_id}/{self.version_id}/{self.file_id or 'zip'}"
