"""URLs of the consultations app (urls_buyer), under /organisations/<org_slug>/consultations/."""

from django.urls import path

from ebourgogne.consultations import views

app_name = "consultations_buyer"
urlpatterns = [
    path("", views.consultation_list, name="list"),
    path("nouvelle/", views.consultation_create, name="create"),
    path("cpv/", views.cpv_picker, name="cpv"),
    path("<int:pk>/", views.consultation_detail, name="detail"),
    path("<int:pk>/modifier/", views.consultation_edit, name="edit"),
    path("<int:pk>/publier/", views.consultation_publish, name="publish"),
    path("<int:pk>/reporter/", views.consultation_postpone, name="postpone"),
    path("<int:pk>/ouvrir/", views.consultation_open, name="open"),
    path("<int:pk>/issue/", views.consultation_outcome, name="outcome"),
    path("<int:pk>/annuler/", views.consultation_cancel, name="cancel"),
    path("<int:pk>/supprimer/", views.consultation_delete, name="delete"),
]
