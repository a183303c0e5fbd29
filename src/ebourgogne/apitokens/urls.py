"""URLs of the apitokens app, under /compte/jetons-api/ (see the root urls.py)."""

from django.urls import path

from ebourgogne.apitokens import views

app_name = "apitokens"
urlpatterns = [
    path("", views.tokens, name="list"),
    path("<int:pk>/revoquer/", views.revoke, name="revoke"),
]
