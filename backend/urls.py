"""Root URL map: canonical API under /api/v1/, docs, metrics, admin, and the compat routes."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from oauth2_provider import urls as oauth2_urls
from oauth2_provider import views as oauth2_views

from backend import compat_urls
from backend.common import docs, site
from destinations import urls as destinations_urls

api_v1 = [
    path("", include("users.urls")),
    path("", include("accounts.urls")),
    path("", include("endpoints.urls")),
    path("", include("destinations.urls")),
]

# The OAuth2 provider (seed 001): authorize, token, revoke_token, introspect, and the HTML pages
# where a logged-in user registers applications and sees the tokens they granted.
oauth2_provider_urls = (
    [
        path(
            ".well-known/oauth-authorization-server",
            oauth2_views.OAuthServerMetadataView.as_view(),
            name="oauth-server-metadata",
        ),
        *[p for p in oauth2_urls.base_urlpatterns if not p.name.startswith("device")],
        *oauth2_urls.management_urlpatterns,
    ],
    "oauth2_provider",
)

# The browsable API's session login/logout (DRF's views; templates reverse `rest_framework:*`).
# /api/v1/auth/logout/ is the JSON token logout, so the session logout has its own path.
browsable_api_auth_urls = (
    [
        path(
            "login/",
            auth_views.LoginView.as_view(template_name="rest_framework/login.html"),
            name="login",
        ),
        path("session-logout/", auth_views.LogoutView.as_view(), name="logout"),
    ],
    "rest_framework",
)

# RFC 8414 discovery at the host root (issuer: the host) and in the path-suffixed form for the
# provider's own issuer /api/v1/oauth2 (the same document as under the provider's prefix).
well_known_urls = [
    path(
        ".well-known/oauth-authorization-server",
        oauth2_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata-root",
    ),
    path(
        ".well-known/oauth-authorization-server/api/v1/oauth2",
        oauth2_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata-issuer",
    ),
]

# Ingest first: machines call it at high rates, and every pattern tried before the match costs
# time on each call (resolving it last was 6 % of a warm ingest call under py-spy).
ingest_urls = [
    path("api/v1/", include(destinations_urls.ingest_urlpatterns)),
    *compat_urls.ingest_compat,
]

urlpatterns = [
    *ingest_urls,
    *well_known_urls,
    path("admin/", admin.site.urls),
    path("favicon.ico", site.favicon, name="favicon"),
    path("api/v1/oauth2/", include(oauth2_provider_urls)),
    path("api/v1/auth/", include(browsable_api_auth_urls)),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Split view: the init script is a separate file, so the page needs no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", docs.RedocView.as_view(url_name="schema"), name="redoc"),
    path("api/redoc/redoc.standalone.js", docs.redoc_bundle, name="redoc-bundle"),
    path("prometheus/", include("django_prometheus.urls")),
    path("", include("django_prometheus.urls")),  # /metrics
    path("", include("backend.compat_urls")),
]

handler500 = "backend.common.views.server_error"

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
