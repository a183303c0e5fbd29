from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "ebourgogne.portal"
    label = "portal"
