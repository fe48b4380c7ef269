"""Canonical routes of this app (mounted under /api/v1/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from users import views

router = SimpleRouter()
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    path("auth/register/", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token/", views.LoginView.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", views.RefreshView.as_view(), name="token_refresh"),
    path("auth/token/verify/", views.VerifyView.as_view(), name="token_verify"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("users/me/", views.MeView.as_view(), name="user-me"),
    *router.urls,
]
