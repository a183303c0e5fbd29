"""Skeleton: filled by the contracts work of session 5 (see the module docstrings of views)."""

from django.urls import path  # noqa: F401

app_name = "contracts_holder_execution"
urlpatterns: list = []
