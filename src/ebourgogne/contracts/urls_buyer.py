"""A buyer's contracts, under /organisations/<org_slug>/marches/."""

from django.urls import path

from ebourgogne.contracts import views

app_name = "contracts"
urlpatterns = [
    path("", views.contract_list, name="list"),
    path("preparer/<int:award_id>/", views.contract_prepare, name="prepare"),
    path("<int:pk>/", views.contract_detail, name="detail"),
    path("<int:pk>/conditions/", views.contract_terms, name="terms"),
    path("<int:pk>/signer/", views.contract_sign, name="sign"),
    path("<int:pk>/notifier/", views.contract_notify, name="notify"),
    path("<int:pk>/donnees-essentielles/", views.contract_decp_publish, name="decp_publish"),
    path("<int:pk>/pieces/", views.contract_upload, name="upload"),
    path("<int:pk>/pieces/<int:document_id>.pdf", views.document_download, name="download"),
]
