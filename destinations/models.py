"""Destinations (where an account's data goes), events (what came in) and the delivery records.

One Event per accepted ingest call; one DeliveryLog per (event, destination); one DeliveryAttempt
per HTTP request made for a log.
"""

import base64
import json
import secrets

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from accounts.models import Account
from backend.common.models import BaseModel
from destinations.pipeline.event_types import validate_event_types
from destinations.pipeline.rules import validate_rule
from destinations.validators import validate_headers, validate_safe_url

SIGNING_SECRET_PREFIX = "whsec_"
MAX_RATE_LIMIT = 10_000


def generate_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SIGNING_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


class Destination(BaseModel):
    """An HTTP endpoint that receives every event of its account, signed."""

    class HttpMethod(models.TextChoices):
        GET = "GET", "GET"
        POST = "POST", "POST"
        PUT = "PUT", "PUT"
        PATCH = "PATCH", "PATCH"
        DELETE = "DELETE", "DELETE"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="destinations")
    url = models.URLField(max_length=2048, validators=[validate_safe_url])
    http_method = models.CharField(max_length=6, choices=HttpMethod.choices, default="POST")
    headers = models.JSONField(default=dict, blank=True, validators=[validate_headers])
    signing_secret = models.CharField(max_length=128, default=generate_signing_secret)
    # Secret rotation overlap: the old secret signs too until it expires (both `v1,` signatures).
    previous_signing_secret = models.CharField(max_length=128, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(default=True)
    # Delivery controls (SPEC section 11); every one optional, the defaults behave as before.
    event_types = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_event_types],
        help_text="Exact types or prefix.* patterns; empty: all.",
    )
    filter = models.JSONField(
        null=True,
        blank=True,
        validators=[validate_rule],
        help_text="A rule the event payload must match.",
    )
    rate_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_RATE_LIMIT)],
        help_text="Deliveries per second at most (null: no limit).",
    )
    fifo = models.BooleanField(
        default=False, help_text="One delivery at a time, in the order the events came in."
    )
    # Rate limit accounting shared by every engine: deliveries claimed in the current second.
    rate_window_start = models.DateTimeField(null=True, blank=True)
    rate_window_count = models.PositiveIntegerField(default=0)
    disabled_reason = models.CharField(max_length=255, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Failure tracking for auto-disable: reset by any successful attempt.
    consecutive_failures = models.PositiveIntegerField(
        default=0, help_text="Logs that ended failed since the last successful delivery."
    )
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failed attempt since the last successful one."
    )
    # Circuit breaker (isolation): after repeated failed attempts the destination's deliveries
    # pause until `breaker_open_until`; then one probe decides (success closes, failure reopens
    # with a doubled cooling period). Paused logs stay pending.
    breaker_failures = models.PositiveIntegerField(
        default=0, help_text="Failed attempts in a row (any log) since the last success."
    )
    breaker_trips = models.PositiveIntegerField(
        default=0, help_text="Times the breaker opened in a row; sets the cooling period."
    )
    breaker_open_until = models.DateTimeField(
        null=True, blank=True, help_text="Deliveries pause until then (circuit open)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            # Every claim reads these few rows: destinations whose breaker tripped, and the
            # active ones with a rate limit or FIFO. Without them each claim scans the table.
            models.Index(
                fields=["id"], name="dest_breaker_tripped_idx", condition=Q(breaker_trips__gt=0)
            ),
            models.Index(
                fields=["id"],
                name="dest_controlled_idx",
                condition=Q(is_active=True) & (Q(fifo=True) | Q(rate_limit__isnull=False)),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.http_method} {self.url}"


class Event(models.Model):
    """One accepted ingest call, idempotent per (account, event_id).

    `body` is the JSON text exactly as the sender sent it (relayed byte for byte: no jsonb
    round trip that reorders keys or rounds numbers). Fan-out to the destinations happens in the
    worker; `fanned_out_at` stays empty until then, which is how a crash or an outage between
    ingest and fan-out loses nothing.
    """

    # Indexed by the unique (account, event_id) below, which starts with it.
    account = models.ForeignKey(
        Account, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100, blank=True, default="")
    body = models.TextField()
    received_at = models.DateTimeField()
    fanned_out_at = models.DateTimeField(null=True, blank=True)
    # An operational (system.*) event names the destination it is about: it never goes there.
    about_destination_id = models.BigIntegerField(null=True, blank=True)
    # W3C trace context of the ingest request (tracing on): each delivery joins that trace.
    traceparent = models.CharField(max_length=55, null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # Idempotency: a repeated CL-X-EVENT-ID (even two racing requests) stores one event.
            models.UniqueConstraint(
                fields=["account", "event_id"], name="destinations_event_unique"
            )
        ]
        indexes = [
            # Fan-out queue: events not fanned out yet, oldest first (stays tiny).
            models.Index(
                fields=["id"],
                name="dest_event_fanout_idx",
                condition=Q(fanned_out_at__isnull=True),
            ),
            # Retention batches, oldest first (stopped by the LIMIT).
            models.Index(fields=["received_at", "id"], name="dest_event_received_idx"),
        ]

    def __str__(self) -> str:
        return self.event_id

    @property
    def payload(self):
        """The body parsed (for display and filters); the body itself is what is delivered."""
        return json.loads(self.body)

    @payload.setter
    def payload(self, value) -> None:
        self.body = json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class DeliveryLog(BaseModel):
    """The delivery of one event to one destination, and where it stands."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        IN_PROGRESS = "in_progress", "In progress"
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        HELD = "held", "Held"

    # No single-column indexes on the foreign keys or created_at: every claim and outcome is an
    # update that rewrites each index of the row, and these were unused or covered by the
    # composite indexes below that start with the same column (migration 0007).
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="logs", db_index=False)
    destination = models.ForeignKey(
        Destination, on_delete=models.CASCADE, related_name="logs", db_index=False
    )
    # Denormalized from event.account so the logs list filters one table. No constraint in the
    # database: the destination's constraint already ties the log to that account, and checking
    # this one too locked the account's row for every log inserted, the same row every ingest
    # request's event locks (migration 0008). Deletes still cascade (Django's collector).
    account = models.ForeignKey(
        Account,
        on_delete=models.CASCADE,
        related_name="delivery_logs",
        db_index=False,
        db_constraint=False,
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    # Attempts ever made (claims count, so a delivery that kills its worker counts too); numbers
    # stay monotonic across replays. A replay starts a new round of the retry schedule:
    # `round_start_attempts` is `attempts` when the current round began.
    attempts = models.PositiveIntegerField(default=0)
    round_start_attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Lease of the delivery engine that claimed the log, renewed while its call is in flight;
    # past it, another engine takes it over.
    claimed_until = models.DateTimeField(null=True, blank=True)
    # When the current claim was taken: a taken-over claim's lost attempt is recorded at this time.
    claimed_at = models.DateTimeField(null=True, blank=True)
    # Which claim batch holds the log: outcomes are recorded only by the holder of the token.
    claim_token = models.UUIDField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    received_timestamp = models.DateTimeField()
    processed_timestamp = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_timestamp", "-id"]
        indexes = [
            # Logs list of an account, newest first, with received_timestamp range filters.
            models.Index(
                fields=["account", "-received_timestamp", "-id"], name="dest_log_account_recv_idx"
            ),
            # Logs list filtered by status (and bulk replay by status and time range).
            models.Index(
                fields=["account", "status", "-received_timestamp"], name="dest_log_acct_status_idx"
            ),
            # Re-queueing a destination's held logs on re-enable; destination_id filter.
            models.Index(fields=["destination", "status"], name="dest_log_dest_status_idx"),
            # Claims: pending logs that are due, oldest first.
            models.Index(
                fields=["next_attempt_at"],
                name="dest_log_pending_due_idx",
                condition=Q(status="pending"),
            ),
            # Claims: in-progress logs whose lease expired; in-flight counts per destination.
            models.Index(
                fields=["claimed_until"],
                name="dest_log_lease_idx",
                condition=Q(status="in_progress"),
            ),
            # Outcomes: the logs of one claim batch.
            models.Index(
                fields=["claim_token"],
                name="dest_log_claim_idx",
                condition=Q(status="in_progress"),
            ),
            # Logs list: "has anything changed" (the cache key's freshness stamp).
            models.Index(fields=["account", "updated_at"], name="dest_log_account_upd_idx"),
            # Retention's NOT EXISTS probe; holds only unfinished logs, so it stays small. Its
            # condition must stay retention's `~Q(status__in=FINISHED_STATUSES)`.
            models.Index(
                fields=["event"],
                name="dest_log_unfinished_idx",
                condition=~Q(status__in=["success", "failed"]),
            ),
            # FIFO destinations: the oldest unfinished log is the head of the line.
            models.Index(
                fields=["destination", "received_timestamp", "id"],
                name="dest_log_fifo_head_idx",
                condition=Q(status__in=["pending", "in_progress"]),
            ),
            # Destination stats: its logs by status over a window (the trailing columns make it
            # an index-only scan on PostgreSQL; not INCLUDE, which SQLite warns about).
            models.Index(
                fields=["destination", "received_timestamp", "status", "attempts"],
                name="dest_log_dest_recv_idx",
            ),
            # Destination stats: its backlog (due pending logs, the oldest first).
            models.Index(
                fields=["destination", "next_attempt_at"],
                name="dest_log_dest_due_idx",
                condition=Q(status="pending"),
            ),
        ]
        constraints = [
            # Fan-out runs at least once: a second run must not create a second log.
            models.UniqueConstraint(
                fields=["event", "destination"], name="destinations_log_event_dest_unique"
            )
        ]

    def __str__(self) -> str:
        return f"log {self.pk} ({self.status})"

    @property
    def is_final(self) -> bool:
        return self.status in (self.Status.SUCCESS, self.Status.FAILED)


class DeliveryAttempt(models.Model):
    """One HTTP request made for a log, with what came back."""

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        RETRY = "retry", "Failed, will retry"
        FAILED = "failed", "Failed permanently"
        # The worker holding the claim died: whether the request went out is not known.
        UNKNOWN = "unknown", "Unknown (worker lost)"

    # Indexed by dest_attempt_log_idx (log, id) below. No constraint in the database: every
    # writer inserts an attempt only for a log its own statement has just updated (and so holds
    # locked until commit), so the check at commit could never fail and cost a query per attempt
    # (migration 0008). Deletes still cascade (Django's collector; retention deletes attempts
    # first).
    log = models.ForeignKey(
        DeliveryLog,
        on_delete=models.CASCADE,
        related_name="attempt_set",
        db_index=False,
        db_constraint=False,
    )
    # Denormalized from log.destination for the stats' window queries. Filled by the database
    # (a trigger on insert, migration 0005), so no writer of attempts has to know about it.
    destination_id = models.BigIntegerField(null=True, blank=True, editable=False)
    attempt_number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_body = models.TextField(blank=True, help_text="First 4 KiB of the response.")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)

    class Meta:
        ordering = ["id"]
        indexes = [
            # Attempts of one log in order (log detail, admin inline).
            models.Index(fields=["log", "id"], name="dest_attempt_log_idx"),
            # Destination stats: a destination's attempts over a window (the trailing columns
            # make it an index-only scan on PostgreSQL).
            models.Index(
                fields=["destination_id", "started_at", "outcome", "duration_ms", "status_code"],
                name="dest_attempt_dest_time_idx",
            ),
            # Destination stats: its last success and last failure (newest of one outcome).
            models.Index(
                fields=["destination_id", "outcome", "-started_at"],
                name="dest_attempt_dest_outcome_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"attempt {self.attempt_number} of log {self.log_id}: {self.outcome}"
