"""A buyer's meetings of commissions, under /organisations/<org_slug>/seances/.

The preparation and convocation pages (views.py), the session (views_session.py, urls_session.py) and the
minutes (views_minutes.py, urls_minutes.py) each keep their own list of routes."""

from django.urls import path

from ebourgogne.meetings import views
from ebourgogne.meetings.urls_minutes import urlpatterns as minutes_urlpatterns
from ebourgogne.meetings.urls_session import urlpatterns as session_urlpatterns

app_name = "meetings"
urlpatterns: list = [
    path("", views.meeting_list, name="list"),
    path("nouvelle/", views.meeting_create, name="create"),
    path("<int:pk>/", views.meeting_detail, name="detail"),
    path("<int:pk>/modifier/", views.meeting_edit, name="edit"),
    path("<int:pk>/annuler/", views.meeting_cancel, name="cancel"),
    path("<int:pk>/convoquer/", views.meeting_convene, name="convene"),
    path("<int:pk>/ordre-du-jour/", views.agenda, name="agenda"),
    path("<int:pk>/ordre-du-jour/ajouter/", views.agenda_add, name="agenda_add"),
    path("<int:pk>/ordre-du-jour/<int:item_pk>/retirer/", views.agenda_remove, name="agenda_remove"),
    path("<int:pk>/ordre-du-jour/<int:item_pk>/deplacer/", views.agenda_move, name="agenda_move"),
    path("<int:pk>/documents/", views.documents, name="documents"),
    path("<int:pk>/documents/ajouter/", views.document_add, name="document_add"),
    path("<int:pk>/documents/<int:document_pk>/retirer/", views.document_remove, name="document_remove"),
    path("<int:pk>/documents/<int:document_pk>/", views.document_download, name="document_download"),
]
urlpatterns += session_urlpatterns + minutes_urlpatterns
