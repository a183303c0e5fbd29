"""The buyer's side of the bids of one consultation, under /organisations/<org_slug>/consultations/<pk>/plis/."""

from django.urls import path

from ebourgogne.tenders import views

app_name = "tenders_buyer"
urlpatterns = [
    path("", views.register, name="register"),
    path("registre.csv", views.register_csv, name="register_csv"),
]
