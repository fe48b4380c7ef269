"""App config of destinations: where account data goes, and its reliable delivery."""

from django.apps import AppConfig


class DestinationsConfig(AppConfig):
    name = "destinations"
    verbose_name = "Destinations, ingest and delivery"
    default_auto_field = "django.db.models.BigAutoField"
