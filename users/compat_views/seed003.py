"""Seed 003's identity routes: /users/register/ and /users/logout/."""

from drf_spectacular.utils import extend_schema_view

from users.compat_views.common import compat_schema
from users.serializers.profile import UserSerializer
from users.serializers.registration import RegisterSerializer
from users.views.common import ERROR_400
from users.views.registration import RegisterView
from users.views.tokens import LogoutView


@extend_schema_view(
    post=compat_schema(
        "compat_users_register",
        "Seed 003: register with email + password (creates a personal account)",
        request=RegisterSerializer,
        responses={201: UserSerializer, 400: ERROR_400},
    )
)
class UsersRegisterView(RegisterView):
    pass


@extend_schema_view(
    post=compat_schema("compat_users_logout", "Seed 003: log out (revokes the token)")
)
class UsersLogoutView(LogoutView):
    pass
