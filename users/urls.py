"""Canonical routes of this app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from users import views

router = SimpleRouter()
# Before `users/{id}/`: the staff viewset only takes UUIDs, but keep the specific routes first.
router.register("users/me/devices", views.DeviceViewSet, basename="device")
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.LoginView.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", views.RefreshView.as_view(), name="token_refresh"),
    path("auth/token/verify/", views.VerifyView.as_view(), name="token_verify"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/email/confirm/", views.EmailConfirmView.as_view(), name="auth-email-confirm"),
    path("auth/email/resend/", views.EmailResendView.as_view(), name="auth-email-resend"),
    path(
        "auth/password/reset/",
        views.PasswordResetRequestView.as_view(),
        name="auth-password-reset",
    ),
    path(
        "auth/password/reset/confirm/",
        views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path("auth/password/change/", views.PasswordChangeView.as_view(), name="auth-password-change"),
    path("users/me/", views.MeView.as_view(), name="user-me"),
    path("users/me/credits/", views.CreditsView.as_view(), name="user-credits"),
    path("users/me/credits/spend/", views.CreditSpendView.as_view(), name="user-credits-spend"),
    path("pre-register/", views.PreRegisterView.as_view(), name="pre-register"),
    path(
        "payments/checkout-session/",
        views.CheckoutSessionView.as_view(),
        name="payments-checkout-session",
    ),
    path(
        "payments/stripe/webhook/",
        views.StripeWebhookView.as_view(),
        name="payments-stripe-webhook",
    ),
    *router.urls,
]
