from django.urls import path

from ebourgogne.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.home, name="home"),
    path("profil/", views.profile, name="profile"),
]
