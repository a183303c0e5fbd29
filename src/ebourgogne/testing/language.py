"""Every test starts in the platform's default language.

Django keeps the language that a request activated in the thread after the response (LocaleMiddleware
activates it, nothing deactivates it). Without this fixture, a test that requests an English page leaves
English active for the next test run by the same pytest-xdist worker, and a test that checks a service's
French message passes or fails depending on how the tests were shared between workers.
Loaded for the whole suite by pyproject.toml (`-p ebourgogne.testing.language`).
"""

from __future__ import annotations

import pytest
from django.utils import translation


@pytest.fixture(autouse=True)
def _default_language():
    translation.deactivate()
    yield
    translation.deactivate()
