"""URLs of the questions app (urls_public): see the root urls.py for the prefix."""

from django.urls import path  # noqa: F401

app_name = "questions_public"
urlpatterns: list = []
