"""The public signature verification page (/verifier-une-signature/)."""

from django.urls import path

from ebourgogne.signatures import views_verify

app_name = "signatures_verify"
urlpatterns = [
    path("", views_verify.verify_page, name="verify"),
]
