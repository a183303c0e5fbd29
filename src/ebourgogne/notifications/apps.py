from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "ebourgogne.notifications"
    label = "notifications"
