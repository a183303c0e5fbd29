"""Alerts belong to one user, not to an organisation: no page is guarded by an organisation permission,
and the matrix's "any signed-in account succeeds" does not fit them (a buyer's agent may not create an
alert; another user's alert is "not found"). Their isolation is tested in test_views.py: every page and
action on an alert of another user answers 404 and changes nothing, the feed needs its secret, the
unsubscribe links their signature. Nothing to run in the authorisation matrix
(ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

OPERATIONS: list = []
