from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "ebourgogne.organisations"
    label = "organisations"
