"""Fixtures shared by every app's tests live in ebourgogne.testing; this file only loads them."""

pytest_plugins = [
    "ebourgogne.testing.factories",
    "ebourgogne.testing.smtp",
    "ebourgogne.testing.browser",
]
