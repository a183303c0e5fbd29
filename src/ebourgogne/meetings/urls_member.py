"""A member's convocations, under /seances/ (signed-in people, on their own convocations only).

The personal link of the convocation e-mail (`lien/<token>/`) records the opening, then asks to sign in."""

from django.urls import path

from ebourgogne.meetings import views_member

app_name = "meetings_member"
urlpatterns: list = [
    path("", views_member.member_list, name="list"),
    path("lien/<str:token>/", views_member.link, name="link"),
    path("<int:pk>/", views_member.detail, name="detail"),
    path("<int:pk>/accuse-reception/", views_member.acknowledge, name="acknowledge"),
    path("<int:pk>/reponse/", views_member.answer, name="answer"),
    path("<int:pk>/invitation.ics", views_member.calendar, name="calendar"),
]
