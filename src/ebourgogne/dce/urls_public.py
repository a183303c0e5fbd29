"""URLs of the dce app (urls_public): see the root urls.py for the prefix."""

from django.urls import path  # noqa: F401

app_name = "dce_public"
urlpatterns: list = []
