"""The search app changes nothing through the web: its pages (search, feed, buyers' pages, sitemap) are
public reads, GET and HEAD only (POST answers 405, see test_views). The index is written by the
receivers of the consultations' signals, inside the consultations' own services, which carry their
checks. Nothing to run in the authorisation matrix (ebourgogne/core/tests/test_authorisation_matrix.py)."""

from __future__ import annotations

OPERATIONS: list = []
