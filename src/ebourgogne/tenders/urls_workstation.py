"""The workstation test (browser, encryption and upload speed), under /poste-de-travail/."""

from django.urls import path

from ebourgogne.tenders import views_workstation

app_name = "tenders_workstation"
urlpatterns = [
    path("", views_workstation.workstation, name="test"),
    path("mesure-envoi/", views_workstation.upload_probe, name="probe"),
]
