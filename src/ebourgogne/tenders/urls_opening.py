"""The opening of a consultation's bids, under /organisations/<org_slug>/consultations/<pk>/plis/ouverture/."""

from django.urls import path

from ebourgogne.tenders import views_opening as views

app_name = "tenders_opening"
urlpatterns = [
    path("", views.page, name="page"),
    path("lancer/", views.start, name="start"),
    path("progression/", views.progress, name="progress"),
    path("<int:opening_pk>/pv.pdf", views.report_pdf, name="report_pdf"),
    path("fichiers/<int:file_pk>/", views.download, name="download"),
]
