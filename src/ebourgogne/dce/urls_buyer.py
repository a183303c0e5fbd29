"""URLs of the dce app (urls_buyer): see the root urls.py for the prefix."""

from django.urls import path  # noqa: F401

app_name = "dce_buyer"
urlpatterns: list = []
