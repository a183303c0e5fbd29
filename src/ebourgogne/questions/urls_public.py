"""Public URLs of the questions app, under /consultations/<pk>/questions/ (see the root urls.py)."""

from django.urls import path

from ebourgogne.questions import views

app_name = "questions_public"
urlpatterns = [
    path("", views.public_list, name="list"),
    path("poser/", views.ask, name="ask"),
]
