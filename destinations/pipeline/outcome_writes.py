"""The logs' new states after a batch of attempts, written in one statement.

PostgreSQL: one `UPDATE ... FROM unnest(...)` for the whole batch (successes, retries, failures
and held logs alike), `RETURNING` the logs that were still this engine's. SQLite (embedded
default): one conditional UPDATE per log, in the caller's transaction.

Every write is conditioned on the claim token, so a log another engine took over keeps that
engine's result.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection

from destinations.models import DeliveryLog

Status = DeliveryLog.Status

FINISH_SQL = """
UPDATE destinations_deliverylog AS log SET
    status = v.status,
    next_attempt_at = v.next_attempt_at,
    processed_timestamp = COALESCE(v.processed_timestamp, log.processed_timestamp),
    last_status_code = CASE WHEN v.keeps THEN log.last_status_code ELSE v.code END,
    last_error = CASE WHEN v.keeps THEN log.last_error ELSE v.error END,
    claimed_until = NULL, claim_token = NULL, updated_at = %(now)s
FROM unnest(
    %(ids)s::bigint[], %(tokens)s::uuid[], %(statuses)s::varchar[], %(nexts)s::timestamptz[],
    %(processed)s::timestamptz[], %(codes)s::integer[], %(errors)s::text[], %(keeps)s::boolean[]
) AS v(id, token, status, next_attempt_at, processed_timestamp, code, error, keeps)
WHERE log.id = v.id AND log.claim_token = v.token AND log.status = 'in_progress'
RETURNING log.id
"""


@dataclass(frozen=True)
class LogChange:
    """One log's state after its attempt (held logs keep their last status code and error)."""

    log_id: int
    claim_token: uuid.UUID
    status: str
    next_attempt_at: datetime | None = None
    processed_timestamp: datetime | None = None
    last_status_code: int | None = None
    last_error: str = ""
    keeps_last_result: bool = False


def logs_finish(*, changes: list[LogChange], now: datetime) -> set[int]:
    """Applies the changes to the logs this engine still holds; returns their ids."""
    if not changes:
        return set()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                FINISH_SQL,
                {
                    "now": now,
                    "ids": [c.log_id for c in changes],
                    "tokens": [str(c.claim_token) for c in changes],
                    "statuses": [c.status for c in changes],
                    "nexts": [c.next_attempt_at for c in changes],
                    "processed": [c.processed_timestamp for c in changes],
                    "codes": [c.last_status_code for c in changes],
                    "errors": [c.last_error for c in changes],
                    "keeps": [c.keeps_last_result for c in changes],
                },
            )
            return {row[0] for row in cursor.fetchall()}
    mine = set()
    for c in changes:
        fields: dict[str, Any] = {
            "status": c.status,
            "next_attempt_at": c.next_attempt_at,
            "claimed_until": None,
            "claim_token": None,
            "updated_at": now,
        }
        if c.processed_timestamp is not None:
            fields["processed_timestamp"] = c.processed_timestamp
        if not c.keeps_last_result:
            fields.update(last_status_code=c.last_status_code, last_error=c.last_error)
        if DeliveryLog.objects.filter(
            pk=c.log_id, claim_token=c.claim_token, status=Status.IN_PROGRESS
        ).update(**fields):
            mine.add(c.log_id)
    return mine
