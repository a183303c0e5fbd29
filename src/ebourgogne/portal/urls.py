from django.urls import path

from ebourgogne.portal import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="home"),
    path("aide/", views.help_index, name="help"),
    path("aide/<slug:role>/", views.help_role, name="help_role"),
    path("accessibilite/", views.accessibility, name="accessibility"),
    path("mentions-legales/", views.legal, name="legal"),
    path("contact/", views.contact, name="contact"),
    path("exploitation/", views.operator_home, name="operator_home"),
]
