"""Essential data of contracts (DECP, 2024 format, schema v2.0.3): built, published append-only, exported.

INTERFACE (session 5): the signatures below are fixed; the bodies are written by the DECP work.
The contract and execution services call the `publish_*` functions at notification; each appends one
`DecpRecord` (nothing below `models.DECP_THRESHOLD`, nothing twice) and never rewrites an earlier one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ebourgogne.contracts.models import Contract, DecpRecord


def publish_initial(contract: Contract, *, now: dt.datetime | None = None) -> DecpRecord | None:
    raise NotImplementedError


def publish_modification(modification: Any, *, now: dt.datetime | None = None) -> DecpRecord | None:
    raise NotImplementedError


def publish_subcontract(subcontract: Any, *, now: dt.datetime | None = None) -> DecpRecord | None:
    raise NotImplementedError


def publish_subcontract_change(change: Any, *, now: dt.datetime | None = None) -> DecpRecord | None:
    raise NotImplementedError


def deadline(contract: Contract) -> dt.date | None:
    """The last day to publish the essential data: notification + 2 months (None: not notified or below
    the threshold)."""
    raise NotImplementedError
