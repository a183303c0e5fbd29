"""A person's personal opening key, under /compte/cle-ouverture/."""

from django.urls import path  # noqa: F401

app_name = "sealing"
urlpatterns: list = []
