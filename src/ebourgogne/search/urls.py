"""URLs of the search app under /consultations/: the search page and its Atom feed."""

from django.urls import path

from ebourgogne.search import views

app_name = "search"
urlpatterns = [
    path("", views.search, name="search"),
    path("flux.atom", views.feed, name="feed"),
]
