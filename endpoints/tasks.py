"""Celery tasks of this app: they take ids, call a service and return a short outcome."""

from celery import shared_task

from endpoints import services


@shared_task(name="endpoints.run_scheduled_task", bind=True, ignore_result=True)
def run_scheduled_task(self, task_id: str) -> str:
    """Claims and runs one scheduled task; a duplicate or late message is a no-op ("skipped")."""
    return services.scheduled_task_run(task_id=task_id, celery_task_id=self.request.id or "")


@shared_task(name="endpoints.dispatch_due_tasks", ignore_result=True)
def dispatch_due_tasks() -> int:
    """Beat, every TASK_DISPATCH_INTERVAL_SECONDS: enqueues due pending tasks."""
    return services.scheduled_task_dispatch_due()


@shared_task(name="endpoints.reap_stuck_tasks", ignore_result=True)
def reap_stuck_tasks() -> int:
    """Beat: fails tasks left running by a lost worker."""
    return services.scheduled_task_reap_stuck()


@shared_task(name="endpoints.purge_finished_tasks", ignore_result=True)
def purge_finished_tasks() -> int:
    """Beat, daily: deletes finished tasks older than TASK_RETENTION_DAYS."""
    return services.scheduled_task_purge_finished()


@shared_task(name="endpoints.clear_expired_oauth2_tokens", ignore_result=True)
def clear_expired_oauth2_tokens() -> None:
    """Beat, hourly: deletes expired OAuth2 access/refresh tokens and grants."""
    from oauth2_provider.models import clear_expired

    clear_expired()
