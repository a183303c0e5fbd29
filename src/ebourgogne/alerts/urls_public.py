"""alerts/urls_public pages."""

from django.urls import path  # noqa: F401

app_name = "alerts_public"
urlpatterns: list = []
