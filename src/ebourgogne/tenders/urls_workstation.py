"""The workstation test (browser, encryption and upload speed), under /poste-de-travail/."""

from django.urls import path  # noqa: F401

app_name = "tenders_workstation"
urlpatterns: list = []
