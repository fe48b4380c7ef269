"""The seeds' own identity routes (seed 002 /api/access/, 003 /users/, 004 /api/v1/user/...),
one module per seed.

Each is a canonical view from users/views/ with the seed's request/response shape; the schema
tags them `compat`. Routed in backend/compat_urls.py, which reads them from this package.
"""

from users.compat_views.seed002 import (
    AccessLoggedDevicesViewSet,
    AccessLoginView,
    AccessMeView,
    AccessPreRegisterView,
    AccessRefreshView,
    AccessRegisterView,
    EmailConfirmationControlView,
    EmailConfirmationResendView,
    ResetPasswordControlView,
)
from users.compat_views.seed003 import UsersLogoutView, UsersRegisterView
from users.compat_views.seed004 import (
    LegacyAccountCreateView,
    LegacyCreateView,
    LegacyLoginView,
    LegacyLogoutView,
    LegacyPostmanLoginView,
    LegacyRefreshView,
    LegacyUserViewSet,
)

__all__ = [
    "AccessLoggedDevicesViewSet",
    "AccessLoginView",
    "AccessMeView",
    "AccessPreRegisterView",
    "AccessRefreshView",
    "AccessRegisterView",
    "EmailConfirmationControlView",
    "EmailConfirmationResendView",
    "LegacyAccountCreateView",
    "LegacyCreateView",
    "LegacyLoginView",
    "LegacyLogoutView",
    "LegacyPostmanLoginView",
    "LegacyRefreshView",
    "LegacyUserViewSet",
    "ResetPasswordControlView",
    "UsersLogoutView",
    "UsersRegisterView",
]
