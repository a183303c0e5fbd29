"""The timestamp authority's public certificates, under /horodatage/."""

from django.urls import path

from ebourgogne.timestamping import views

app_name = "timestamping"
urlpatterns = [
    path("", views.certificates, name="certificates"),
    path("<slug:name>.pem", views.certificate_pem, name="pem"),
]
