"""URLs of the search app at the root: buyers' public pages and the sitemap."""

from django.urls import path

from ebourgogne.search import views

app_name = "search_root"
urlpatterns = [
    path("acheteurs/<slug:slug>/", views.buyer, name="buyer"),
    path("sitemap.xml", views.sitemap_index, name="sitemap"),
    path("sitemap-consultations-<int:chunk>.xml", views.sitemap_consultations, name="sitemap_consultations"),
    path("sitemap-<slug:section>.xml", views.sitemap_section, name="sitemap_section"),
]
