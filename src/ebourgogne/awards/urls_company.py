"""A company's letters (rejection, award), under /organisations/<org_slug>/courriers/."""

from django.urls import path

from ebourgogne.awards import views

app_name = "awards_company"
urlpatterns = [
    path("", views.company_letters, name="list"),
    path("<int:letter_id>/", views.company_letter, name="letter"),
    path("<int:letter_id>/pdf/", views.company_letter_pdf, name="letter_pdf"),
]
