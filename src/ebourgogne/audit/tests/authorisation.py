"""State-changing operations of the audit app, for the authorisation matrix (core/tests/test_authorisation_matrix.py).

None: the journal is only read (pages, CSV export, API). Events are written by other apps' services,
whose own operations are in their matrices. The CSV export records an "audit.exported" event, but only
once access is granted; tests/test_views.py checks that a refused export records nothing.
"""

OPERATIONS: list = []
