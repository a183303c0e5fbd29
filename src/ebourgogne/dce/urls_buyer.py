"""Buyer URLs of the DCE, under organisations/<org_slug>/consultations/<int:pk>/dce/ (see the root urls.py)."""

from django.urls import path

from ebourgogne.dce import views

app_name = "dce_buyer"
urlpatterns = [
    path("", views.manage, name="manage"),
    path("deposer/", views.upload, name="upload"),
    path("fichiers/<int:file_id>/", views.buyer_download, name="file"),
    path("fichiers/<int:file_id>/remplacer/", views.replace, name="replace"),
    path("fichiers/<int:file_id>/retirer/", views.remove, name="remove"),
    path("publier/", views.publish, name="publish"),
    path("registre/", views.register, name="register"),
    path("registre.csv", views.register_csv, name="register_csv"),
]
