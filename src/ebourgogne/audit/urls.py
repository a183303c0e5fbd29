from django.urls import path

from ebourgogne.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.operator_events, name="operator_events"),
    path("export.csv", views.operator_events_csv, name="operator_events_csv"),
    path("<slug:org_slug>/", views.org_events, name="org_events"),
    path("<slug:org_slug>/export.csv", views.org_events_csv, name="org_events_csv"),
]
