"""Compatibility routes: each seed document's own paths, routed to the canonical views.

Kept in one place so the canonical API (backend/urls.py → each app's urls.py) stays clean.
Every view here is the same view class as the canonical route; the schema tags them `compat`.
Each app has its own section below; order matters where paths overlap (see comments).
"""

from django.urls import include, path  # noqa: F401

# --- users (seed 002 /api/access/..., seed 003 /users/..., seed 004 /api/v1/user/...) -----------
from users import compat_views as users_views  # noqa: E402

users_compat = [
    # Seed 002.
    path(
        "api/access/users/", users_views.AccessRegisterView.as_view(), name="compat-access-register"
    ),
    path("api/access/users/me/", users_views.AccessMeView.as_view(), name="compat-access-me"),
    path(
        "api/access/auth/login/", users_views.AccessLoginView.as_view(), name="compat-access-login"
    ),
    path(
        "api/access/auth/refresh/",
        users_views.AccessRefreshView.as_view(),
        name="compat-access-refresh",
    ),
    path(
        "api/access/logged-devices/",
        users_views.AccessLoggedDevicesViewSet.as_view({"get": "list"}),
        name="compat-access-logged-devices",
    ),
    path(
        "api/access/logged-devices/<str:pk>/",
        users_views.AccessLoggedDevicesViewSet.as_view({"delete": "destroy"}),
        name="compat-access-logged-device",
    ),
    path(
        "api/access/reset-password-control/",
        users_views.ResetPasswordControlView.as_view(),
        name="compat-access-reset-password",
    ),
    path(
        "api/access/email-confirmation-control/",
        users_views.EmailConfirmationControlView.as_view(),
        name="compat-access-email-confirmation",
    ),
    path(
        "api/access/email-confirmation-control/resend/",
        users_views.EmailConfirmationResendView.as_view(),
        name="compat-access-email-confirmation-resend",
    ),
    path(
        "api/access/pre-register/",
        users_views.AccessPreRegisterView.as_view(),
        name="compat-access-pre-register",
    ),
    # Seed 003 (its /users/login/, /users/, /users/{id}/ and /users/invite/ are in accounts_compat).
    path("users/register/", users_views.UsersRegisterView.as_view(), name="compat-users-register"),
    path("users/logout/", users_views.UsersLogoutView.as_view(), name="compat-users-logout"),
    # Seed 004: no trailing slash, exactly as documented (they resolve, so APPEND_SLASH never
    # redirects a POST here).
    path(
        "api/v1/user/create", users_views.LegacyCreateView.as_view(), name="compat-v1-user-create"
    ),
    path("api/v1/user/login", users_views.LegacyLoginView.as_view(), name="compat-v1-user-login"),
    path(
        "api/v1/user/refresh",
        users_views.LegacyRefreshView.as_view(),
        name="compat-v1-user-refresh",
    ),
    path(
        "api/v1/user/logout", users_views.LegacyLogoutView.as_view(), name="compat-v1-user-logout"
    ),
    path(
        "api/v1/users",
        users_views.LegacyUserViewSet.as_view({"get": "list"}),
        name="compat-v1-users-list",
    ),
    # Seed 004's Postman collection.
    path(
        "api/account/create/",
        users_views.LegacyAccountCreateView.as_view(),
        name="compat-postman-account-create",
    ),
    path("api/login/", users_views.LegacyPostmanLoginView.as_view(), name="compat-postman-login"),
]

# --- accounts (seed 003 /accounts/..., /users/ list, /users/invite/, /users/login/) -------------
from accounts import compat_views as accounts_views  # noqa: E402

# `<int:...>` (digits only) for account ids: allauth's HTML pages live at /accounts/login/ etc.
accounts_compat = [
    path("users/login/", accounts_views.SeedLoginView.as_view(), name="compat-user-login"),
    path("users/invite/", accounts_views.CompatInviteView.as_view(), name="compat-user-invite"),
    path(
        "users/",
        accounts_views.UserDirectoryViewSet.as_view({"get": "list"}),
        name="compat-user-list",
    ),
    path(
        "users/<uuid:pk>/",
        accounts_views.UserDirectoryViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update"}
        ),
        name="compat-user-detail",
    ),
    path(
        "accounts/",
        accounts_views.CompatAccountViewSet.as_view({"get": "list", "post": "create"}),
        name="compat-account-list",
    ),
    path(
        "accounts/<int:pk>/",
        accounts_views.CompatAccountViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="compat-account-detail",
    ),
    path(
        "accounts/<int:pk>/rotate-secret/",
        accounts_views.CompatAccountViewSet.as_view({"post": "rotate_secret"}),
        name="compat-account-rotate-secret",
    ),
    path(
        "accounts/<int:account_pk>/members/",
        accounts_views.CompatMembershipViewSet.as_view({"get": "list", "post": "create"}),
        name="compat-account-member-list",
    ),
    path(
        "accounts/<int:account_pk>/members/<int:pk>/",
        accounts_views.CompatMembershipViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="compat-account-member-detail",
    ),
]

# --- endpoints (seed 002 /tasks/, /health/, seed 004 /api/health/) -------------------------------
from endpoints import views as endpoints_views  # noqa: E402

endpoints_compat = [
    path("", endpoints_views.HomeView.as_view(), name="home"),
    path("api/", endpoints_views.CompatApiRootView.as_view(), name="compat-api-root"),
    path("health/", endpoints_views.CompatHealthView.as_view(), name="compat-health"),
    path("api/health/", endpoints_views.CompatApiHealthView.as_view(), name="compat-api-health"),
    path("tasks/", endpoints_views.CompatTaskCreateView.as_view(), name="compat-task-create"),
    path(
        "tasks/<str:task_id>/",
        endpoints_views.CompatTaskStatusView.as_view(),
        name="compat-task-status",
    ),
]

# --- destinations (seed 003 /server/incoming_data/, /destinations/..., /accounts/{id}/logs/) -----
from django.urls import re_path  # noqa: E402

from destinations import ingest_views as destinations_ingest_views  # noqa: E402
from destinations import views as destinations_views  # noqa: E402

# Integer account ids only: allauth's HTML pages live at /accounts/login/ and the like.
# Mounted by backend/urls.py ahead of every other route (see there).
ingest_compat = [
    path(
        "server/incoming_data/",
        destinations_ingest_views.CompatIngestView.as_view(),
        name="compat-incoming-data",
    ),
]

destinations_compat = [
    re_path(
        r"^accounts/(?P<account_id>\d+)/destinations/$",
        destinations_views.CompatAccountDestinationViewSet.as_view(
            {"get": "list", "post": "create"}
        ),
        name="compat-account-destinations",
    ),
    re_path(
        r"^destinations/(?P<pk>\d+)/$",
        destinations_views.CompatDestinationViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="compat-destination-detail",
    ),
    re_path(
        r"^accounts/(?P<account_id>\d+)/logs/$",
        destinations_views.CompatAccountDeliveryLogViewSet.as_view({"get": "list"}),
        name="compat-account-logs",
    ),
]

# --- oauth2 / allauth (seed 001: django-allauth's HTML account pages under /accounts/) ----------
# Last: the accounts API above owns /accounts/ and /accounts/<int>/...; allauth's pages are words
# (/accounts/login/, /accounts/signup/, /accounts/password/reset/ ...), so neither shadows the other.
oauth_compat = [
    path("accounts/", include("allauth.urls")),
]

urlpatterns = [
    *users_compat,
    *accounts_compat,
    *endpoints_compat,
    *destinations_compat,
    *oauth_compat,
]
