"""The session routes of a meeting (included by meetings/urls.py, namespace "meetings")."""

from django.urls import path

from ebourgogne.meetings import views_session

urlpatterns: list = [
    path("<int:pk>/seance/", views_session.session_page, name="session"),
    path("<int:pk>/seance/ouvrir/", views_session.session_open, name="session_open"),
    path("<int:pk>/seance/presences/", views_session.attendance, name="session_attendance"),
    path("<int:pk>/seance/points/<int:item_pk>/ouverture/", views_session.open_bids, name="session_open_bids"),
    path(
        "<int:pk>/seance/points/<int:item_pk>/ouverture/avancement/",
        views_session.opening_progress,
        name="session_opening_progress",
    ),
    path("<int:pk>/seance/points/<int:item_pk>/decisions/", views_session.decision, name="session_decision"),
    path("<int:pk>/seance/clore/", views_session.close, name="session_close"),
    path(
        "<int:pk>/seance/clore-sans-quorum/",
        views_session.close_without_quorum,
        name="session_close_without_quorum",
    ),
]
