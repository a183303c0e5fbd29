"""A contract's execution for its buyer, under /organisations/<org_slug>/marches/<contract_pk>/execution/:
modifications, order forms, subcontracting, milestones, the end of the contract."""

from django.urls import path

from ebourgogne.contracts import views_execution as views

app_name = "contracts_execution"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("modifications/", views.modification_create, name="modification_create"),
    path(
        "modifications/<int:item_id>/nouveau-titulaire/",
        views.modification_new_holder,
        name="modification_new_holder",
    ),
    path("bons-de-commande/", views.order_issue, name="order_issue"),
    path("sous-traitance/", views.subcontract_declare, name="subcontract_declare"),
    path("sous-traitance/<int:item_id>/decision/", views.subcontract_decide, name="subcontract_decide"),
    path("sous-traitance/<int:item_id>/modification/", views.subcontract_change, name="subcontract_change"),
    path("jalons/", views.milestone_set, name="milestone_set"),
    path("jalons/<int:item_id>/realise/", views.milestone_done, name="milestone_done"),
    path("fin/", views.contract_end, name="end"),
    path("pieces/<int:document_id>.pdf", views.document, name="document"),
    path("<slug:kind>/<int:item_id>/", views.act, name="act"),
    path("<slug:kind>/<int:item_id>/signer/", views.act_sign, name="act_sign"),
    path("<slug:kind>/<int:item_id>/notifier/", views.act_notify, name="act_notify"),
]
