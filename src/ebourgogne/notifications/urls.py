from django.urls import path

from ebourgogne.notifications import views

app_name = "notifications"
urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("essai/", views.send_test, name="send_test"),
    path("<int:pk>/", views.outbox_detail, name="outbox_detail"),
    path("<int:pk>/html/", views.outbox_html, name="outbox_html"),
    path("<int:pk>/renvoyer/", views.resend, name="outbox_resend"),
]
