"""A deposited bid's receipt (PDF, JSON), under /organisations/<org_slug>/offres/plis/<bid_pk>/accuse/."""

from django.urls import path

from ebourgogne.tenders import views_receipts

app_name = "tenders_receipts"
urlpatterns = [
    path("pdf/", views_receipts.receipt_pdf_view, name="pdf"),
    path("json/", views_receipts.receipt_json_view, name="json"),
]
