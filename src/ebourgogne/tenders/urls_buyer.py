"""The buyer's side of the bids of one consultation, under /organisations/<org_slug>/consultations/<pk>/plis/."""

from django.urls import path  # noqa: F401

app_name = "tenders_buyer"
urlpatterns: list = []
