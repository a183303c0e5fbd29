from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "ebourgogne.audit"
    label = "audit"
