"""A company's bids, under /organisations/<org_slug>/offres/."""

from django.urls import path

from ebourgogne.tenders import views

app_name = "tenders_company"
urlpatterns = [
    path("", views.bid_list, name="list"),
    path("consultation/<int:consultation_pk>/nouveau/", views.bid_new, name="new"),
    path("plis/<int:bid_pk>/", views.bid_detail, name="bid"),
    path("plis/<int:bid_pk>/fichiers/<uuid:upload_id>/retirer/", views.file_remove, name="file_remove"),
    path("plis/<int:bid_pk>/deposer/", views.bid_deposit, name="deposit"),
    path("plis/<int:bid_pk>/depose/", views.bid_result, name="result"),
]
