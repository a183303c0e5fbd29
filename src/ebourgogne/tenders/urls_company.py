"""A company's bids, under /organisations/<org_slug>/offres/."""

from django.urls import path  # noqa: F401

app_name = "tenders_company"
urlpatterns: list = []
