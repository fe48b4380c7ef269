"""Product metrics of this app, exported at /metrics.

A shared counter (backend.common.shared_metrics): workers count task outcomes into the shared
cache, so any web process's /metrics shows the totals.
"""

from backend.common.shared_metrics import SharedCounter


def _task_outcome_series():
    from endpoints.models import ScheduledTask
    from endpoints.task_types import REGISTRY

    return [(task_type, status) for task_type in REGISTRY for status in ScheduledTask.FINISHED]


SCHEDULED_TASK_OUTCOMES = SharedCounter(
    "scheduled_task_outcomes_total",
    "Scheduled tasks that reached a final status, by type and status.",
    ["task_type", "status"],
    series=_task_outcome_series,
)
