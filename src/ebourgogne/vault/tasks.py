"""Background work of the vault: the expiry reminders, once a day (07:00 UTC), idempotent
(`services.send_expiry_reminders`: a sent-log per document, threshold and validity end date)."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from ebourgogne.core.scheduler import periodic


@periodic(name="vault.expiry_reminders", every=timedelta(days=1), offset=timedelta(hours=7))
@task()
def expiry_reminders_task() -> dict[str, int]:
    """Send the expiry reminders due today (30 and 7 days before by default: VAULT_REMINDER_DAYS)."""
    from ebourgogne.vault.services import send_expiry_reminders

    return send_expiry_reminders()
