from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "backend.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from backend.common import tracing

        # Before the WSGI handler loads the middleware (Django's instrumentation adds one).
        tracing.setup()
