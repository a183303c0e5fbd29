"""A consultation's evaluation and award, under /organisations/<org_slug>/consultations/<pk>/attribution/."""

from django.urls import path  # noqa: F401

app_name = "awards"
urlpatterns: list = []
