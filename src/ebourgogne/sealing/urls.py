"""A person's personal opening key, under /compte/cle-ouverture/."""

from django.urls import path

from ebourgogne.sealing import views

app_name = "sealing"
urlpatterns = [
    path("", views.home, name="home"),
    path("creer/", views.set_up, name="set_up"),
    path("changer/", views.rotate, name="rotate"),
    path("remplacer/", views.replace_lost, name="replace_lost"),
]
