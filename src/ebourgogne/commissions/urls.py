"""A buyer's commissions, under /organisations/<org_slug>/commissions/."""

from django.urls import path  # noqa: F401

app_name = "commissions"
urlpatterns: list = []
