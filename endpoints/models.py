"""API keys (hashed, looked up by prefix) and scheduled tasks (run once by a DB-backed dispatcher)."""

from __future__ import annotations

import hashlib
import secrets
from hmac import compare_digest

from django.conf import settings
from django.db import models
from django.utils import timezone
from oauth2_provider.settings import oauth2_settings

from backend.common.models import UUIDModel

API_KEY_PREFIX_BYTES = 5  # 10 hex characters, shown to the user and used for the lookup
API_KEY_SECRET_BYTES = 32  # 256 bits of entropy: a plain SHA-256 is enough, no slow hasher


def hash_api_key(raw: str) -> str:
    """SHA-256 of the whole key. Safe without salt or stretching because the key is 256 random
    bits (unlike a password), and it does not depend on SECRET_KEY, so rotating that keeps keys."""
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def generate_api_key() -> tuple[str, str, str]:
    """A new `(raw_key, prefix, key_hash)`; the raw key is `<prefix>.<secret>`."""
    prefix = secrets.token_hex(API_KEY_PREFIX_BYTES)
    raw = f"{prefix}.{secrets.token_urlsafe(API_KEY_SECRET_BYTES)}"
    return raw, prefix, hash_api_key(raw)


def _first(queryset):
    # Not .first(): it adds an ORDER BY that a lookup by a unique prefix does not need.
    return next(iter(queryset.order_by()[:1]), None)


class ApiKeyManager(models.Manager):
    """Named lookups for API keys."""

    def for_key(self, raw: str) -> ApiKey | None:
        """The key matching `raw` (current key, or previous key within its grace period), or None.

        Returns inactive and expired keys too: the caller decides how to refuse them.
        """
        if not raw or len(raw) > 200:
            return None
        prefix, sep, secret = raw.partition(".")
        if not sep or not prefix or not secret:
            return None
        digest = hash_api_key(raw)
        key = _first(self.select_related("user").filter(prefix=prefix))
        if key is not None:
            return key if compare_digest(digest, key.key_hash) else None
        # Only a rotated key's old value reaches this second (indexed) query.
        key = _first(
            self.select_related("user").filter(
                previous_prefix=prefix, previous_expires_at__gt=timezone.now()
            )
        )
        if key is not None and compare_digest(digest, key.previous_key_hash):
            return key
        return None


class ApiKey(UUIDModel):
    """A credential for external services; only its prefix and hash are stored.

    Regenerating gives a new prefix and secret. With a grace period the old prefix and hash are
    kept in `previous_*` until `previous_expires_at`, so the old key keeps working until then.
    """

    class Scope(models.TextChoices):
        READ = "read", "Read"
        WRITE = "write", "Write"
        INGEST = "ingest", "Ingest"

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys"
    )
    # A key bound to an account acts for that account only (the ingest checks it).
    account = models.ForeignKey(
        "accounts.Account",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_keys",
    )
    scopes = models.JSONField(default=list)
    rate_limit = models.CharField(
        max_length=32, blank=True, help_text='DRF rate such as "100/minute"; empty = default.'
    )
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    previous_prefix = models.CharField(max_length=16, blank=True, db_index=True, editable=False)
    previous_key_hash = models.CharField(max_length=64, blank=True, editable=False)
    previous_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiKeyManager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def default_scopes() -> list[str]:
        return [ApiKey.Scope.READ.value, ApiKey.Scope.WRITE.value]

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()


class ScheduledTask(UUIDModel):
    """A unit of background work that runs once at (or just after) `scheduled_at`.

    Life cycle: pending → running → completed | failed, or pending → cancelled. Every transition
    is a conditional UPDATE on the current status, so a task is never both cancelled and run,
    and never run twice. The dispatcher (`endpoints.dispatch_due_tasks`, every second) enqueues
    due pending tasks and stamps `dispatched_at`; it re-sends a task still pending
    TASK_REDISPATCH_AFTER_SECONDS later (a lost message costs a delay, never the task).

    Running-forever rule: a task still `running` CELERY_TASK_TIME_LIMIT + TASK_STUCK_MARGIN_SECONDS
    after it started is marked `failed` with error "worker lost" by `endpoints.reap_stuck_tasks`.
    It is not re-queued: work that may have half happened is not repeated behind the user's back.

    A body with no `task_type` gets DEFAULT_TASK_TYPE (`process_data`): it summarises its
    (possibly empty) `data` parameter, which is harmless and quick.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)
    DEFAULT_TASK_TYPE = "process_data"

    name = models.CharField(max_length=255)
    task_type = models.CharField(max_length=64, default=DEFAULT_TASK_TYPE)
    parameters = models.JSONField(default=dict, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="scheduled_tasks",
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    scheduled_at = models.DateTimeField(default=timezone.now)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    error_message = models.TextField(blank=True)
    celery_task_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The dispatcher's query: pending tasks by due time.
            models.Index(
                fields=["scheduled_at"],
                name="endpoints_task_pending_due",
                condition=models.Q(status="pending"),
            ),
            # The reaper's query: running tasks by start time.
            models.Index(
                fields=["started_at"],
                name="endpoints_task_running_start",
                condition=models.Q(status="running"),
            ),
            # The owner's list, newest first.
            models.Index(fields=["owner", "-created_at"], name="endpoints_task_owner_created"),
        ]

    def __str__(self) -> str:
        return f"{self.name} [{self.task_type}, {self.status}]"


class OAuthApplicationAccount(models.Model):
    """Binds an OAuth2 application to one account: its ingest-scoped tokens act for that account.

    One account per application (the primary key is the application). The application's user
    must be an Admin of the account when the binding is made, and still is when a token is used.
    """

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="account_binding",
    )
    account = models.ForeignKey(
        "accounts.Account", on_delete=models.CASCADE, related_name="oauth_applications"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "OAuth2 application account"

    def __str__(self) -> str:
        return f"{self.application_id} → {self.account_id}"
