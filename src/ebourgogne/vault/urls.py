"""The vault's pages, under /organisations/<org_slug>/coffre-fort/ (a company's vault; a buyer's grants received)."""

from django.urls import path

from ebourgogne.vault import views

app_name = "vault"
urlpatterns = [
    path("", views.index, name="index"),
    path("deposer/", views.upload, name="upload"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/nouvelle-version/", views.version_add, name="version_add"),
    path("<int:pk>/supprimer/", views.delete, name="delete"),
    path("<int:pk>/telecharger/", views.download, name="download"),
    path("<int:pk>/versions/<int:number>/telecharger/", views.version_download, name="version_download"),
    path("acces/", views.grants, name="grants"),
    path("acces/accorder/", views.grant_create, name="grant_create"),
    path("acces/<int:grant_pk>/revoquer/", views.grant_revoke, name="grant_revoke"),
    # A buyer's side: the grants received (R2143-13).
    path("acces-recus/", views.received, name="received"),
    path("acces-recus/<int:grant_pk>/", views.received_detail, name="received_detail"),
    path("acces-recus/<int:grant_pk>/<int:pk>/telecharger/", views.received_download, name="received_download"),
]
