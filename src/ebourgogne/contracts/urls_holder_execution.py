"""A contract's execution for its holder, under /organisations/<org_slug>/mes-marches/<contract_pk>/execution/:
read the modifications and order forms, declare subcontractors, sign the acts."""

from django.urls import path

from ebourgogne.contracts import views_execution as views

app_name = "contracts_holder_execution"
urlpatterns = [
    path("", views.holder_overview, name="overview"),
    path("sous-traitance/", views.holder_subcontract_declare, name="subcontract_declare"),
    path("pieces/<int:document_id>.pdf", views.holder_document, name="document"),
    path("<slug:kind>/<int:item_id>/", views.holder_act, name="act"),
    path("<slug:kind>/<int:item_id>/signer/", views.holder_act_sign, name="act_sign"),
]
