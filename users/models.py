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
    # The Stripe subscription as the last webhook told it (customer.subscription.*).
    subscription_id = models.CharField(max_length=255, blank=True)
    subscription_status = models.CharField(max_length=32, blank=True)
    subscription_plan = models.CharField(max_length=255, blank=True)
    subscription_current_period_end = models.DateTimeField(null=True, blank=True)
    # Stripe's `created` of the event last applied: an older event delivered late is ignored.
    subscription_event_created = models.DateTimeField(null=True, blank=True, editable=False)

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
        PASSWORD_CHANGED = "password_changed", "Password changed or reset"

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


# --- Account lifecycle (SPEC section 8) -------------------------------------------------------------


class OneTimeToken(models.Model):
    """A single-use, expiring token sent by email; only its SHA-256 is stored.

    Consuming it is a conditional UPDATE (`used_at IS NULL AND expires_at > now`), so two
    requests with the same token cannot both succeed.
    """

    user = models.ForeignKey("users.User", on_delete=models.CASCADE)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self) -> str:
        state = "used" if self.used_at else "unused"
        return f"{self.user_id} ({state}, expires {self.expires_at:%Y-%m-%d %H:%M})"

    @property
    def is_usable(self) -> bool:
        return self.used_at is None and self.expires_at > timezone.now()


class EmailConfirmationToken(OneTimeToken):
    """Proves the user reads the mailbox of `email` (the address it was sent to)."""

    email = models.EmailField(max_length=254)

    class Meta(OneTimeToken.Meta):
        default_related_name = "email_confirmation_tokens"


class PasswordResetToken(OneTimeToken):
    """A password reset request (kept as a record of who asked, from where)."""

    requested_ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta(OneTimeToken.Meta):
        default_related_name = "password_reset_tokens"


class Device(models.Model):
    """Where a user logged in from: one row per user + user agent + IP while not revoked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey("users.User", on_delete=models.CASCADE, related_name="devices")
    user_agent = models.CharField(max_length=512, blank=True)
    browser = models.CharField(max_length=100, blank=True)
    os = models.CharField("operating system", max_length=100, blank=True)
    device = models.CharField(max_length=100, blank=True)
    device_type = models.CharField(max_length=16, blank=True)
    ip = models.GenericIPAddressField("IP address", null=True, blank=True)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [
            # A login from the same browser and address is the same device (until revoked).
            models.UniqueConstraint(
                fields=["user", "user_agent", "ip"],
                condition=models.Q(revoked_at__isnull=True),
                name="users_device_active_unique",
            ),
        ]
        indexes = [
            # The device list: the caller's active devices, most recently seen first.
            models.Index(
                fields=["user", "-last_seen"],
                condition=models.Q(revoked_at__isnull=True),
                name="users_device_active_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.browser or 'Unknown browser'} on {self.os or 'unknown OS'} ({self.ip})"


class DeviceLogin(models.Model):
    """One login (token family) made from a device: revoking the device revokes these families."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="logins")
    family = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Past this the family's last refresh token has expired: nothing left to revoke.
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.family} on {self.device_id}"


class PreRegistration(models.Model):
    """An email address left before sign-up opens (seed 002's pre-registration)."""

    email = models.EmailField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="users_preregistration_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email


class CreditTransaction(models.Model):
    """One change of a user's credit balance: + grant, - spend, with the balance it left."""

    user = models.ForeignKey(
        "users.User", on_delete=models.CASCADE, related_name="credit_transactions"
    )
    amount = models.IntegerField()
    balance_after = models.PositiveIntegerField()
    reason = models.CharField(max_length=255)
    # Caller-chosen idempotency key (e.g. the Stripe checkout session): one transaction per key.
    reference = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "reference"],
                condition=~models.Q(reference=""),
                name="users_credittransaction_user_reference_unique",
            ),
            models.CheckConstraint(
                condition=~models.Q(amount=0), name="users_credittransaction_amount_nonzero"
            ),
        ]
        indexes = [
            # The history page: one user's transactions, newest first.
            models.Index(fields=["user", "-created_at"], name="users_credit_user_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.amount:+d} for {self.user_id} ({self.reason})"


class StripeEvent(models.Model):
    """A Stripe webhook event already handled: the unique id makes delivery exactly-once."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Ignored (type not handled or nothing to do)"

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=255, db_index=True)
    livemode = models.BooleanField(default=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    detail = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
