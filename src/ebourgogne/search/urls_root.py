"""URLs of the search app (urls_root): see the root urls.py for the prefix."""

from django.urls import path  # noqa: F401

app_name = "search_root"
urlpatterns: list = []
