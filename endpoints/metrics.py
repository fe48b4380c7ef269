"""Product metrics of this app: plain prometheus_client metrics kept in the counting process.

Task outcomes are mostly counted by the Celery worker (its own metrics endpoint, see
backend.common.worker_metrics); a cancel is counted by the web process that handles it.
"""

from prometheus_client import Counter

SCHEDULED_TASK_OUTCOMES = Counter(
    "scheduled_task_outcomes_total",
    "Scheduled tasks that reached a final status, by type and status.",
    ["task_type", "status"],
)


def export_known_series() -> None:
    """Exports every task type and final status at 0 (called once the app registry is ready)."""
    from endpoints.models import ScheduledTask
    from endpoints.task_types import REGISTRY

    for task_type in REGISTRY:
        for status in ScheduledTask.FINISHED:
            SCHEDULED_TASK_OUTCOMES.labels(task_type, status)
