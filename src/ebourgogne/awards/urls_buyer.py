"""A consultation's evaluation and award, under /organisations/<org_slug>/consultations/<pk>/attribution/."""

from django.urls import path

from ebourgogne.awards import views

app_name = "awards"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("admission/<int:bid_id>/", views.admission, name="admission"),
    path("analyse/<int:evaluation_id>/", views.evaluation_detail, name="evaluation"),
    path("analyse/<int:evaluation_id>/criteres/", views.criteria, name="criteria"),
    path("analyse/<int:evaluation_id>/prix/<int:offer_id>/", views.price, name="price"),
    path("analyse/<int:evaluation_id>/offre-anormalement-basse/<int:offer_id>/", views.low, name="low"),
    path("analyse/<int:evaluation_id>/notes/<int:offer_id>/", views.scores, name="scores"),
    path("analyse/<int:evaluation_id>/rapport.pdf", views.report, name="report"),
    path("analyse/<int:evaluation_id>/decision/", views.decide, name="decide"),
    path("analyse/<int:evaluation_id>/courriers/", views.send_letters, name="send_letters"),
    path("courriers/<int:letter_id>.pdf", views.buyer_letter_pdf, name="letter_pdf"),
]
