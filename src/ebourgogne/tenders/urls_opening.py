"""The opening of a consultation's bids, under /organisations/<org_slug>/consultations/<pk>/plis/ouverture/."""

from django.urls import path  # noqa: F401

app_name = "tenders_opening"
urlpatterns: list = []
