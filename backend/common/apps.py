from django.apps import AppConfig


class CommonConfig(AppConfig):
    name = "backend.common"
    label = "common"
    verbose_name = "Common"

    def ready(self) -> None:
        from backend.common.shared_metrics import register_collector

        register_collector()
