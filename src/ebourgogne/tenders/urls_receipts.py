"""A deposited bid's receipt (PDF, JSON), under /organisations/<org_slug>/offres/plis/<bid_pk>/accuse/."""

from django.urls import path  # noqa: F401

app_name = "tenders_receipts"
urlpatterns: list = []
