from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    verbose_name = "Users"

    def ready(self):
        from users import (  # noqa: F401  (OpenAPI auth scheme, device tracking receivers)
            receivers,
            schema,
        )
