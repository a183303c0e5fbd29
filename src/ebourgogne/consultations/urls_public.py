"""URLs of the consultations app (urls_public), under /consultations/<int:pk>/."""

from django.urls import path

from ebourgogne.consultations import views

app_name = "consultations_public"
urlpatterns = [
    path("", views.public_detail, name="detail"),
]
