"""The audit trail: an append-only, hash-chained log of every security-relevant action.

Rows are only ever inserted, through `ebourgogne.audit.services.log_event`. The application refuses to
change or delete them (model and queryset methods raise); on PostgreSQL a trigger refuses it at the
database too (migration 0002). People and organisations are recorded as plain ids plus a text snapshot,
never as foreign keys: deleting a user or an organisation must not rewrite, or cascade into, the log.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from ebourgogne.audit.chain import GENESIS_HASH


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete audit events."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("Audit events cannot be updated.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")

    delete.queryset_only = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        objs = list(objs)
        if not all(getattr(obj, "_chained", False) for obj in objs):
            raise AppendOnlyError("Audit events are appended through ebourgogne.audit.services only.")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        raise AppendOnlyError("Audit events cannot be updated.")

    def update_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Audit events cannot be updated.")

    def get_or_create(self, *args: Any, **kwargs: Any) -> Any:
        raise AppendOnlyError("Audit events are appended through ebourgogne.audit.services only.")


class AuditEvent(models.Model):
    seq = models.BigIntegerField(_("numéro"), primary_key=True)
    occurred_at = models.DateTimeField(_("date et heure"))
    actor_id = models.BigIntegerField(_("identifiant de l'auteur"), null=True, blank=True)
    actor_label = models.CharField(_("auteur"), max_length=254, blank=True)
    organisation_id = models.BigIntegerField(_("identifiant de l'organisation"), null=True, blank=True)
    organisation_label = models.CharField(_("organisation"), max_length=255, blank=True)
    action = models.CharField(_("action"), max_length=100)
    object_type = models.CharField(_("type d'objet"), max_length=100, blank=True)
    object_id = models.CharField(_("identifiant de l'objet"), max_length=64, blank=True)
    object_label = models.CharField(_("objet"), max_length=255, blank=True)
    data = models.JSONField(_("détails"), default=dict, blank=True)
    ip_address = models.CharField(_("adresse IP"), max_length=45, blank=True)
    user_agent = models.CharField(_("navigateur"), max_length=300, blank=True)
    prev_hash = models.CharField(_("empreinte précédente"), max_length=64)
    hash = models.CharField(_("empreinte"), max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("événement du journal")
        verbose_name_plural = _("événements du journal")
        ordering = ["-seq"]
        # Every list reads newest first by seq (keyset pagination), after one of these filters.
        indexes = [
            models.Index(fields=["organisation_id", "seq"], name="audit_org_seq"),
            models.Index(fields=["object_type", "object_id", "seq"], name="audit_object_seq"),
            models.Index(fields=["actor_id", "seq"], name="audit_actor_seq"),
            # The e-mail recorded with the event: finds a deleted person's events.
            models.Index(fields=["actor_label", "seq"], name="audit_actor_label_seq"),
            models.Index(
                fields=["action", "seq"], name="audit_action_seq", opclasses=["varchar_pattern_ops", "int8_ops"]
            ),
            models.Index(fields=["occurred_at"], name="audit_occurred_at"),
        ]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return f"#{self.seq} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        if not getattr(self, "_chained", False):
            # A row written past log_event would not be linked into the chain: refuse it here.
            raise AppendOnlyError("Audit events are appended through ebourgogne.audit.services only.")
        kwargs["force_insert"] = True
        kwargs.pop("force_update", None)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("Audit events cannot be deleted.")

    def hashed_fields(self) -> dict[str, Any]:
        from ebourgogne.audit.chain import HASHED_FIELDS

        return {name: getattr(self, name) for name in HASHED_FIELDS}


class AuditChainHead(models.Model):
    """One row: the last event of the chain. Locked by every append so that the chain never forks."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)
    # Events never go back in time: an event is dated at least as late as the one before it.
    last_occurred_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tête de la chaîne du journal")
        verbose_name_plural = _("tête de la chaîne du journal")
        default_permissions = ()
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_singleton")]

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"
