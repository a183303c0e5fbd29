"""URLs under /organisations/. Fixed pages first; then one organisation's pages under its slug (slugs
that would shadow a fixed page are never given out: see `services.RESERVED_SLUGS`)."""

from django.urls import path

from ebourgogne.organisations import views

app_name = "organisations"
urlpatterns = [
    path("creer-entreprise/", views.create_company, name="create_company"),
    path("invitation/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("exploitation/", views.operator_list, name="operator_list"),
    path("exploitation/acheteurs/nouveau/", views.operator_create_buyer, name="operator_create_buyer"),
    path("<slug:org_slug>/", views.detail, name="detail"),
    path("<slug:org_slug>/modifier/", views.edit, name="edit"),
    path("<slug:org_slug>/quitter/", views.leave, name="leave"),
    path("<slug:org_slug>/membres/", views.members, name="members"),
    path("<slug:org_slug>/membres/inviter/", views.invite, name="invite"),
    path("<slug:org_slug>/membres/<int:user_id>/roles/", views.member_roles, name="member_roles"),
    path("<slug:org_slug>/membres/<int:user_id>/retirer/", views.member_remove, name="member_remove"),
    path("<slug:org_slug>/invitations/", views.invitations, name="invitations"),
    path("<slug:org_slug>/invitations/<int:pk>/annuler/", views.invitation_revoke, name="invitation_revoke"),
    path("<slug:org_slug>/services/", views.services_list, name="services"),
    path("<slug:org_slug>/services/nouveau/", views.service_create, name="service_create"),
    path("<slug:org_slug>/services/<int:pk>/renommer/", views.service_rename, name="service_rename"),
    path("<slug:org_slug>/services/<int:pk>/supprimer/", views.service_delete, name="service_delete"),
]
