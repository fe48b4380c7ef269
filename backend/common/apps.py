from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CommonConfig(AppConfig):
    name = "backend.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from backend.common import tracing
        from backend.common.site import name_the_site

        # Before the WSGI handler loads the middleware (Django's instrumentation adds one).
        tracing.setup()
        # After every migrate (sites creates its example.com row in its own post_migrate).
        post_migrate.connect(name_the_site, dispatch_uid="common.name_the_site")
