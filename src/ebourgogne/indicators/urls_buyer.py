"""A buyer's indicators, under /organisations/<org_slug>/indicateurs/."""

from django.urls import path  # noqa: F401

app_name = "indicators_buyer"
urlpatterns: list = []
