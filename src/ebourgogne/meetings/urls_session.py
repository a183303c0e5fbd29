"""The session routes of a meeting (included by meetings/urls.py, namespace "meetings")."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
