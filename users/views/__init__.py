"""Views of the identity app, one module per concern; this package re-exports them so
`users.urls`, the compat routes and `from users.views import X` keep working.
"""

from users.views.common import PublicAuthView
from users.views.credits import CreditSpendView, CreditsView
from users.views.devices import DeviceViewSet
from users.views.email_confirmation import EmailConfirmView, EmailResendView
from users.views.login import LoginView
from users.views.passwords import (
    PasswordChangeView,
    PasswordResetConfirmView,
    PasswordResetRequestView,
)
from users.views.payments import CheckoutSessionView, StripeWebhookView
from users.views.pre_registration import PreRegisterView
from users.views.profile import MeView
from users.views.registration import RegisterView
from users.views.staff import UserViewSet
from users.views.tokens import LogoutView, RefreshView, VerifyView

__all__ = [
    "CheckoutSessionView",
    "CreditSpendView",
    "CreditsView",
    "DeviceViewSet",
    "EmailConfirmView",
    "EmailResendView",
    "LoginView",
    "LogoutView",
    "MeView",
    "PasswordChangeView",
    "PasswordResetConfirmView",
    "PasswordResetRequestView",
    "PreRegisterView",
    "PublicAuthView",
    "RefreshView",
    "RegisterView",
    "StripeWebhookView",
    "UserViewSet",
    "VerifyView",
]
