"""The timestamp authority's public certificates, under /horodatage/."""

from django.urls import path  # noqa: F401

app_name = "timestamping"
urlpatterns: list = []
