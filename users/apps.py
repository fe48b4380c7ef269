from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self):
        # Connects signal receivers (device tracking, allauth signup/confirmation) and the
        # OpenAPI auth scheme.
        from users import allauth, receivers, schema  # noqa: F401
