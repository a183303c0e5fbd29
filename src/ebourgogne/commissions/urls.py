"""A buyer's commissions, under /organisations/<org_slug>/commissions/."""

from django.urls import path

from ebourgogne.commissions import views

app_name = "commissions"
urlpatterns = [
    path("", views.commission_list, name="list"),
    path("nouvelle/", views.commission_create, name="create"),
    path("<int:pk>/", views.commission_detail, name="detail"),
    path("<int:pk>/modifier/", views.commission_edit, name="edit"),
    path("<int:pk>/membres/ajouter/", views.member_add, name="member_add"),
    path("<int:pk>/membres/<int:member_pk>/retirer/", views.member_remove, name="member_remove"),
]
