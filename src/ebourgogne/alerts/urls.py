"""Alerts pages of the signed-in user (/compte/alertes/)."""

from django.urls import path

from ebourgogne.alerts import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_list, name="list"),
    path("nouvelle/", views.alert_create, name="create"),
    path("<int:pk>/modifier/", views.alert_edit, name="edit"),
    path("<int:pk>/pause/", views.alert_pause, name="pause"),
    path("<int:pk>/supprimer/", views.alert_delete, name="delete"),
    path("<int:pk>/flux/", views.alert_feed_regenerate, name="feed_regenerate"),
    path("suivis/<int:consultation_id>/arreter/", views.follow_stop, name="follow_stop"),
]
