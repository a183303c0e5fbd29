"""Buyer URLs of the questions app, under /organisations/<org_slug>/consultations/<pk>/questions/."""

from django.urls import path

from ebourgogne.questions import views

app_name = "questions_buyer"
urlpatterns = [
    path("", views.buyer_list, name="list"),
    path("information/", views.information, name="information"),
    path("<int:question_pk>/repondre/", views.answer, name="answer"),
]
