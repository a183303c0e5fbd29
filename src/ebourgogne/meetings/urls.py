"""A buyer's meetings of commissions, under /organisations/<org_slug>/seances/.

The preparation and convocation pages (views.py), the session (views_session.py, urls_session.py) and the
minutes (views_minutes.py, urls_minutes.py) each keep their own list of routes."""

from django.urls import path  # noqa: F401

from ebourgogne.meetings.urls_minutes import urlpatterns as minutes_urlpatterns
from ebourgogne.meetings.urls_session import urlpatterns as session_urlpatterns

app_name = "meetings"
urlpatterns: list = [] + session_urlpatterns + minutes_urlpatterns
