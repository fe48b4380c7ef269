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


@shared_task(name="users.send_password_reset")
def send_password_reset(*, email: str, requested_ip: str | None = None) -> bool:
    """Looks the address up, makes a reset token and mails it (the token never crosses the
    broker: it is made here). Returns whether a mail was sent."""
    from users.services import password_reset_deliver

    return password_reset_deliver(email=email, requested_ip=requested_ip)
