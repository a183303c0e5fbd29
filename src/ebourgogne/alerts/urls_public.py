"""Public addresses of alerts (/alertes/): the private feeds (secret token) and the one-click
unsubscribe links of the mails (signed tokens)."""

from django.urls import path

from ebourgogne.alerts import views

app_name = "alerts_public"
urlpatterns = [
    path("flux/<str:token>.atom", views.feed, name="feed"),
    path("desabonnement/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("suivi/desabonnement/<str:token>/", views.follow_unsubscribe, name="follow_unsubscribe"),
]
