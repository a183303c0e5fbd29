"""Background work of sealed bids: the opening job, the destruction of unopened backup copies at the end
of the procedure, and the practice consultation's rolling deadline."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import task

from ebourgogne.core.scheduler import periodic


@task()
def run_opening_task(opening_id: int) -> str:
    """Decrypt the bids of an opening started by `tenders.opening.opening_start` (see its docstring)."""
    from ebourgogne.tenders.opening import run_opening

    opening = run_opening(opening_id)
    return opening.state if opening is not None else "missing"


@periodic(name="tenders.destroy_unopened_backups", every=timedelta(hours=1))
@task()
def destroy_unopened_backups_task() -> int:
    """Destroy the unopened backup copies of consultations whose procedure has ended (with an audit event)."""
    from ebourgogne.tenders.opening import destroy_unopened_backups

    return destroy_unopened_backups()


@periodic(name="tenders.practice_deadline", every=timedelta(hours=6))
@task()
def practice_deadline_task() -> str:
    """Keep the practice consultation's deadline in the future (and the consultation open)."""
    from ebourgogne.tenders.practice import roll_practice_deadline

    moment = roll_practice_deadline()
    return moment.isoformat() if moment else ""
