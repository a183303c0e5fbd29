"""Receivers of the consultations' signals (connected in AlertsConfig.ready): percolate after commit."""

from __future__ import annotations

from typing import Any

from ebourgogne.core.tasks import enqueue_on_commit


def on_consultation_published(sender: Any, consultation: Any, **kwargs: Any) -> None:
    from ebourgogne.alerts.tasks import percolate_consultation

    enqueue_on_commit(percolate_consultation, consultation.pk)


def on_consultation_changed(sender: Any, consultation: Any, changes: dict | None = None, **kwargs: Any) -> None:
    from ebourgogne.alerts.tasks import percolate_consultation

    enqueue_on_commit(percolate_consultation, consultation.pk)
