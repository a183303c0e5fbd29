"""vault pages."""

from django.urls import path  # noqa: F401

app_name = "vault"
urlpatterns: list = []
