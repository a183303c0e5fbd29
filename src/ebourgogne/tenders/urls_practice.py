"""The practice consultation, under /entrainement/."""

from django.urls import path  # noqa: F401

app_name = "tenders_practice"
urlpatterns: list = []
