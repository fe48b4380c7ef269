"""Periodic housekeeping of the identity app."""

import logging

from celery import shared_task
from django.utils import timezone

from users.models import RevokedToken

logger = logging.getLogger(__name__)

PURGE_BATCH = 5000


@shared_task(name="users.purge_expired_revocations")
def purge_expired_revocations() -> int:
    """Deletes revocations whose tokens have all expired (in batches); returns how many."""
    now = timezone.now()
    deleted = 0
    while True:
        ids = list(
            RevokedToken.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[
                :PURGE_BATCH
            ]
        )
        if not ids:
            break
        deleted += RevokedToken.objects.filter(pk__in=ids).delete()[0]
    if deleted:
        logger.info("Purged %d expired token revocations.", deleted)
    return deleted
