"""A person's signing certificates (for the minutes of commissions, and any later signed document).

`SigningCertificate` belongs to one user (not to an organisation: the same person signs for every buyer
whose commission they sit on). Two origins:

- **uploaded**: the person's own PKCS#12 (from a certification authority). The file is kept as it was
  uploaded, still protected by its own password, and on top of that encrypted with the platform key
  (`sealing.crypto.platform_seal`, context "signatures/pkcs12/<user>/<fingerprint>"): a copy of the
  database alone reveals nothing, and the password is never stored: it is typed at each signature.
- **platform**: issued by the platform signing CA (signatures/ca.py) for members without a certificate
  and for the demo. The key pair is made on the server; the private key (PKCS#8 DER) is encrypted with a
  **signing passphrase** the person chooses at issue (age scrypt, `sealing.crypto.passphrase_encrypt`),
  then sealed with the platform key (context "signatures/platform-key/<user>/<fingerprint>"). Signing
  needs both: the server's SECRET_KEY and the passphrase, which is never stored. A separate passphrase,
  not the account password: the account password changes (reset by e-mail, which would then be enough
  to sign) and some accounts have none (passkey, SSO).

What is shown and copied into signatures is kept in clear: subject, issuer, serial, validity dates,
SHA-256 fingerprint, the certificate (DER) and the chain carried with it (PEM).
A revoked certificate can no longer sign; its sealed key material is erased at revocation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Origin(models.TextChoices):
    UPLOADED = "uploaded", _("Certificat importé (PKCS#12)")
    PLATFORM = "platform", _("Certificat délivré par la plateforme")


class SigningCertificate(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="signing_certificates")
    origin = models.CharField(_("origine"), max_length=16, choices=Origin.choices)
    label = models.CharField(_("nom"), max_length=100, blank=True)
    subject = models.CharField(_("titulaire"), max_length=500)
    issuer = models.CharField(_("émetteur"), max_length=500)
    serial = models.CharField(_("numéro de série"), max_length=80)
    not_before = models.DateTimeField(_("valide à partir du"))
    not_after = models.DateTimeField(_("valide jusqu'au"))
    fingerprint = models.CharField(_("empreinte SHA-256"), max_length=64)
    certificate_der = models.BinaryField()
    chain_pem = models.TextField(blank=True)  # the other certificates carried with it (intermediates, root)
    # The secret part, sealed with the platform key (see the module docstring); erased at revocation.
    sealed_pkcs12 = models.BinaryField(null=True, blank=True)  # origin "uploaded"
    sealed_key = models.BinaryField(null=True, blank=True)  # origin "platform"
    created_at = models.DateTimeField(_("ajouté le"))
    last_used_at = models.DateTimeField(_("dernière signature"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)
    revoked_reason = models.CharField(_("motif de la révocation"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("certificat de signature")
        verbose_name_plural = _("certificats de signature")
        ordering = ["user", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "fingerprint"],
                condition=Q(revoked_at__isnull=True),
                name="signing_certificate_once_per_user",
            )
        ]

    def __str__(self) -> str:
        return self.label or self.subject

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def grouped_fingerprint(self) -> str:
        return ":".join(self.fingerprint[i : i + 2] for i in range(0, len(self.fingerprint), 2)).upper()
