"""Skeleton: the public signature verification page (/verifier-une-signature/)."""

from django.urls import path  # noqa: F401

app_name = "signatures_verify"
urlpatterns: list = []
