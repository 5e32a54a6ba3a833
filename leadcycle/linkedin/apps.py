from django.apps import AppConfig


class LinkedInConfig(AppConfig):
    name = "leadcycle.linkedin"
    label = "linkedin"
    verbose_name = "LinkedIn Lead Gen Forms sync"
