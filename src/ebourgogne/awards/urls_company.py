"""A company's letters (rejection, award), under /organisations/<org_slug>/courriers/."""

from django.urls import path  # noqa: F401

app_name = "awards_company"
urlpatterns: list = []
