"""Public entry to bidding on one consultation, under /consultations/<pk>/depot/."""

from django.urls import path  # noqa: F401

app_name = "tenders_public"
urlpatterns: list = []
