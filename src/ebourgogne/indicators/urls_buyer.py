"""A buyer's indicators, under /organisations/<org_slug>/indicateurs/."""

from django.urls import path

from ebourgogne.indicators import views

app_name = "indicators_buyer"
urlpatterns = [
    path("", views.buyer_dashboard, name="dashboard"),
    path("actualiser/", views.buyer_refresh, name="refresh"),
    path("export/<slug:figure>.csv", views.buyer_export, name="export"),
]
