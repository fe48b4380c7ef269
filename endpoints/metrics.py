"""Product metrics of this app (prometheus_client; exported at /metrics by the web process).

Counters incremented in worker processes live in those processes: scrape workers separately
(or use prometheus_client's multiprocess mode) to see them.
"""

from prometheus_client import Counter

SCHEDULED_TASK_OUTCOMES = Counter(
    "scheduled_task_outcomes_total",
    "Scheduled tasks that reached a final status, by type and status.",
    ["task_type", "status"],
)
