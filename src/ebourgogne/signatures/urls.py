"""A person's signing certificates, under /compte/certificats/."""

from django.urls import path

from ebourgogne.signatures import views

app_name = "signatures"
urlpatterns = [
    path("", views.home, name="home"),
    path("importer/", views.upload, name="upload"),
    path("demander/", views.issue, name="issue"),
    path("<int:pk>/revoquer/", views.revoke, name="revoke"),
]
