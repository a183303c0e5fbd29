"""The public indicators of the region and its departments, under /indicateurs/."""

from django.urls import path

from ebourgogne.indicators import views

app_name = "indicators"
urlpatterns = [
    path("", views.region, name="region"),
    path("export/<slug:figure>.csv", views.region_export, name="region_export"),
    path("departements/<str:code>/", views.department, name="department"),
    path("departements/<str:code>/export/<slug:figure>.csv", views.department_export, name="department_export"),
]
