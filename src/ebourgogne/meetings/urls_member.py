"""meetings/urls_member pages."""

from django.urls import path  # noqa: F401

app_name = "meetings_member"
urlpatterns: list = []
