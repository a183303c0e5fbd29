"""Receivers that keep the search index in step with the consultations (connected in SearchConfig.ready).

They run inside the sending service's transaction: if the service fails afterwards, the index change
is rolled back with it.
"""

from __future__ import annotations

from ebourgogne.search import indexing


def on_consultation_published(sender, consultation, **kwargs) -> None:
    indexing.index_consultation(consultation.pk)


def on_consultation_changed(sender, consultation, changes=None, **kwargs) -> None:
    indexing.index_consultation(consultation.pk)
