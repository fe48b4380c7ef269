"""The custom user model (in the first migration, as Django requires)."""

import uuid

from django.contrib.auth.models import AbstractBaseUser, PermissionsMixin
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from users.managers import UserManager


def default_notification_preferences() -> dict:
    return {"email": True, "marketing": False, "security": True}


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: email is the identifier, the primary key is an unguessable UUID."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField("email address", max_length=254, unique=True)
    username = models.CharField(
        max_length=150,
        unique=True,
        validators=[UnicodeUsernameValidator()],
        help_text="150 characters or fewer. Letters, digits and @/./+/-/_ only.",
    )
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    # Profile (SPEC section 8).
    email_confirmed = models.BooleanField(default=False)
    avatar = models.ImageField(upload_to="avatars/%Y/%m/", blank=True, null=True)
    phone_number = models.CharField(max_length=32, blank=True)
    birth_date = models.DateField(blank=True, null=True)
    notification_preferences = models.JSONField(default=default_notification_preferences)
    credits = models.PositiveIntegerField(default=0, validators=[MinValueValidator(0)])
    stripe_customer_id = models.CharField(max_length=255, blank=True, db_index=True)

    objects = UserManager()

    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["username"]

    class Meta:
        ordering = ["date_joined"]
        constraints = [
            # Email and username are unique regardless of case: the login lookup is case-insensitive.
            models.UniqueConstraint(Lower("email"), name="users_user_email_ci_unique"),
            models.UniqueConstraint(Lower("username"), name="users_user_username_ci_unique"),
            models.CheckConstraint(
                condition=models.Q(credits__gte=0), name="users_user_credits_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.username

    def get_short_name(self) -> str:
        return self.first_name or self.username


class RevokedToken(models.Model):
    """A revoked JWT, token family or user-wide cut-off; the durable copy of the cache denylist.

    The cache answers the per-request check; these rows rebuild it when the cache is lost, and a
    unique (kind, identifier) makes "revoke this refresh token" an atomic claim (reuse detection).
    """

    class Kind(models.TextChoices):
        ACCESS = "access", "Access token"
        REFRESH = "refresh", "Refresh token"
        FAMILY = "family", "Token family (one login)"
        # Every token of the user issued before `created_at` (password reset, "log out everywhere").
        USER = "user", "All tokens of a user"

    class Reason(models.TextChoices):
        LOGOUT = "logout", "Logout"
        ROTATED = "rotated", "Rotated (refresh used)"
        REUSE_DETECTED = "reuse_detected", "Refresh token reuse detected"
        REVOKE_ALL = "revoke_all", "All sessions revoked"
        ADMIN = "admin", "Revoked by an administrator"
        DEVICE_REVOKED = "device_revoked", "Device revoked"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The token's jti, the family id, or the user's id (kind=user).
    identifier = models.CharField(max_length=64)
    user = models.ForeignKey(
        "users.User",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="revoked_tokens",
    )
    reason = models.CharField(max_length=32, choices=Reason.choices)
    # Past this instant every token the row covers has expired anyway: the row can be purged.
    expires_at = models.DateTimeField(db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "identifier"], name="users_revokedtoken_kind_identifier_unique"
            ),
        ]
        indexes = [
            # Rebuilding the cache denylist reads the live rows of the hot-path kinds.
            models.Index(fields=["kind", "expires_at"], name="users_revoked_kind_expires_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.identifier} ({self.reason})"
