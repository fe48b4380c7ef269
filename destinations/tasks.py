"""Celery tasks of the destinations app: one delivery attempt, and the sweeper (on beat)."""

from celery import shared_task

from destinations import services


@shared_task(name="destinations.deliver", acks_late=True, ignore_result=True)
def deliver(log_id: int) -> str:
    """One attempt for one log. Idempotent: a log that is finished, not due, or held by another
    worker's live lease is skipped, so duplicate messages are harmless."""
    return services.delivery_attempt(log_id=log_id)


@shared_task(name="destinations.sweep_pending_deliveries", ignore_result=True)
def sweep_pending_deliveries() -> int:
    """Publishes due deliveries the broker lost or never got, and re-hands expired leases."""
    return services.deliveries_sweep()
