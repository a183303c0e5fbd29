"""Public entry to bidding on one consultation, under /consultations/<pk>/depot/."""

from django.urls import path

from ebourgogne.tenders import views

app_name = "tenders_public"
urlpatterns = [path("", views.public_entry, name="entry")]
