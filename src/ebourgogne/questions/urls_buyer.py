"""URLs of the questions app (urls_buyer): see the root urls.py for the prefix."""

from django.urls import path  # noqa: F401

app_name = "questions_buyer"
urlpatterns: list = []
