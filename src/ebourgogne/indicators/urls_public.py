"""The public indicators of the region and its departments, under /indicateurs/."""

from django.urls import path  # noqa: F401

app_name = "indicators"
urlpatterns: list = []
