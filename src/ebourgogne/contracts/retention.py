"""Retention periods of the contract's documents and of the procedure's documents (R2184-12, R2184-13),
and the purge that only deletes what is past its period.

INTERFACE (session 5): the signatures below are fixed; the bodies are written by the retention work.
"""

from __future__ import annotations

import datetime as dt

from ebourgogne.contracts.models import Contract


def on_contract_end(contract: Contract, *, ended_on: dt.date) -> None:
    """Record `retain_until` on every document of the contract (5 years after the end of execution,
    10 for works) and on the procedure's documents it governs. Called by the end/termination service."""
    raise NotImplementedError
