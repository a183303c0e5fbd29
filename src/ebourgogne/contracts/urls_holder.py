"""The contracts a company holds, under /organisations/<org_slug>/mes-marches/."""

from django.urls import path

from ebourgogne.contracts import views

app_name = "contracts_holder"
urlpatterns = [
    path("", views.holder_list, name="list"),
    path("<int:pk>/", views.holder_detail, name="detail"),
    path("<int:pk>/signer/", views.holder_sign, name="sign"),
    path("<int:pk>/pieces/", views.holder_upload, name="upload"),
    path("<int:pk>/pieces/<int:document_id>.pdf", views.holder_download, name="download"),
]
