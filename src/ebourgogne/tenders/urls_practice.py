"""The practice consultation, under /entrainement/."""

from django.urls import path

from ebourgogne.tenders import views_practice as views

app_name = "tenders_practice"
urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:org_slug>/ouverture/", views.mock_opening, name="mock_opening"),
]
