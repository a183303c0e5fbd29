"""Personal API tokens: a signed-in person creates them to call the API as themselves.

The secret (`ebg_` + 43 URL-safe characters, 256 random bits) is shown once at creation and never stored:
only its SHA-256 is kept (a slow hash adds nothing to a secret of that entropy, and the lookup must be
fast on every API call). A token acts with its owner's roles *at the time of each call*: nothing about
organisations or permissions is copied into it, so a removed membership takes effect at once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiToken(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("titulaire")
    )
    name = models.CharField(_("nom"), max_length=100)
    prefix = models.CharField(_("début du jeton"), max_length=16)  # shown so the person recognises it
    token_hash = models.CharField(max_length=64, unique=True)  # sha256 hex of the whole secret
    created_at = models.DateTimeField(_("créé le"))
    expires_at = models.DateTimeField(_("expire le"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("dernière utilisation"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("révoqué le"), null=True, blank=True)

    class Meta:
        verbose_name = _("jeton d'API")
        verbose_name_plural = _("jetons d'API")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="apitoken_user_active")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_expired(self, at) -> bool:
        return self.expires_at is not None and self.expires_at <= at
