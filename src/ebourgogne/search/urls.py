"""URLs of the search app (urls): see the root urls.py for the prefix."""

from django.urls import path  # noqa: F401

app_name = "search"
urlpatterns: list = []
