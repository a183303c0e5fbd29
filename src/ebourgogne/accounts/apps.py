from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "ebourgogne.accounts"
    label = "accounts"
