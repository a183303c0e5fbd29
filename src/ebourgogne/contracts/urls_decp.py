"""Public pages of the essential data of contracts (DECP), under /donnees-essentielles/."""

from django.urls import path

from ebourgogne.contracts import views_decp

app_name = "decp"
urlpatterns = [
    path("", views_decp.index, name="index"),
    path("<str:day>.<str:fmt>", views_decp.download, name="download"),
]
