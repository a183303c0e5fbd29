"""Public URLs of the DCE, under consultations/<int:pk>/dce/ (see the root urls.py)."""

from django.urls import path

from ebourgogne.dce import views

app_name = "dce_public"
urlpatterns = [
    path("fichiers/<int:file_id>/", views.download_file, name="file"),
    path("dce-complet.zip", views.download_archive, name="archive"),
    path("identification/", views.identify, name="identify"),
    path("desinscription/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
