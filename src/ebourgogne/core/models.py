"""Platform-wide records that belong to no tenant."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from ebourgogne.core import clock


class PeriodicRun(models.Model):
    """One run of a periodic job in one time slot. The unique (name, slot) pair is the lock that lets any
    number of scheduler processes tick at the same time: only the one whose insert succeeds enqueues the
    job (see `ebourgogne.core.scheduler`)."""

    name = models.CharField(_("tâche périodique"), max_length=100)
    slot = models.BigIntegerField(_("créneau"))
    due_at = models.DateTimeField(_("prévue pour"))
    claimed_at = models.DateTimeField(_("lancée le"), default=clock.now)
    node = models.CharField(_("nœud"), max_length=200, blank=True)
    task_result_id = models.CharField(_("identifiant de la tâche"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("exécution périodique")
        verbose_name_plural = _("exécutions périodiques")
        ordering = ["-due_at"]
        constraints = [models.UniqueConstraint(fields=["name", "slot"], name="periodicrun_one_run_per_slot")]
        indexes = [models.Index(fields=["claimed_at"], name="periodicrun_claimed_at")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.due_at.isoformat()}"
