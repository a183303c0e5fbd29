"""The minutes routes of a meeting (included by meetings/urls.py, namespace "meetings")."""

from django.urls import path

from ebourgogne.meetings import views_minutes

urlpatterns: list = [
    path("<int:pk>/proces-verbal/", views_minutes.minutes_page, name="minutes"),
    path("<int:pk>/proces-verbal/generer/", views_minutes.minutes_generate, name="minutes_generate"),
    path("<int:pk>/proces-verbal/signer/", views_minutes.minutes_sign, name="minutes_sign"),
    path("<int:pk>/proces-verbal/telecharger/", views_minutes.minutes_download, name="minutes_download"),
]
