from django.apps import AppConfig


class EndpointsConfig(AppConfig):
    name = "endpoints"
    verbose_name = "API keys, scheduled tasks and health"

    def ready(self):
        # Registers the OpenAPI security scheme of the API-key authentication.
        from endpoints import receivers, schema  # noqa: F401
        from endpoints.oauth_redirects import install as install_loopback_redirects

        install_loopback_redirects()

        from endpoints.metrics import export_known_series

        export_known_series()
