"""The operators' files (Grafana dashboard, Prometheus alert rules) and the pipeline gauges.

The rules pass `promtool check rules`, and every metric that the dashboard's queries or the
rules name is one that the web's /metrics or a real worker's metrics endpoint serves.
"""

import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from destinations.metrics import PipelineHealthCollector
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory
from tests.support.metrics import metric_value
from tests.support.worker import wait_until

DEPLOY = Path(settings.BASE_DIR) / "deploy"
DASHBOARD = DEPLOY / "grafana" / "dashboard.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
# Series Prometheus makes itself, not the application.
PROMETHEUS_SERIES = {"up"}
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring"}


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [t["expr"] for p in dashboard["panels"] for t in p["targets"]]


def alert_rules() -> list[dict]:
    rules = yaml.safe_load(ALERTS.read_text())
    return [rule for group in rules["groups"] for rule in group["rules"]]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads (labels, ranges, functions and words aside)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges and subqueries
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    names = re.findall(r"(?<![\w$.])([A-Za-z_:][\w:]*)\b(?!\s*\()", expr)
    return {name for name in names if name not in PROMQL_WORDS}


def served_sample_names(text: str) -> set[str]:
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_the_extractor_finds_metrics_and_nothing_else():
    expr = (
        'sum by (le) (rate(a_total{job=~"$w", x!="y"}[5m])) / ignoring(x) b_seconds_bucket '
        "and deriv(max(c_due)[15m:1m]) > 0"
    )
    assert metric_names(expr) == {"a_total", "b_seconds_bucket", "c_due"}


def test_the_files_cover_what_operators_need():
    queries = " ".join(dashboard_queries())
    for metric in (
        "destinations_ingest_requests_total",
        "destinations_deliveries_total",
        "destinations_delivery_attempt_duration_seconds_bucket",
        "destinations_backlog_due",
        "destinations_backlog_oldest_due_age_seconds",
        "destinations_breakers_open",
        "scheduled_task_outcomes_total",
    ):
        assert metric in queries, metric
    assert {rule["alert"] for rule in alert_rules()} == {
        "DeliveryBacklogGrowing",
        "OldestDueDeliveryTooOld",
        "DeliveryFailureRateHigh",
        "CircuitBreakerOpen",
        "WorkerMetricsTargetDown",
    }


def test_promtool_accepts_the_rules():
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package prometheus; .ci/run installs it)")
    result = subprocess.run(
        [promtool, "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


@pytest.mark.django_db
def test_the_gauges_count_rows_and_read_at_most_once_per_interval():
    now = timezone.now()
    log = DeliveryLogFactory(next_attempt_at=now - timedelta(seconds=90))
    DeliveryLogFactory(destination=log.destination, next_attempt_at=now - timedelta(seconds=5))
    DeliveryLogFactory(destination=log.destination, next_attempt_at=now + timedelta(hours=1))
    DeliveryLogFactory(destination=log.destination, status="success")
    DestinationFactory(breaker_trips=1, breaker_open_until=now + timedelta(minutes=1))
    DestinationFactory(breaker_trips=2, breaker_open_until=now - timedelta(minutes=1))  # probing
    collector = PipelineHealthCollector(max_age=3600)
    values = {m.name: m.samples[0].value for m in collector.collect()}
    assert values["destinations_backlog_due"] == 2
    assert 90 <= values["destinations_backlog_oldest_due_age_seconds"] < 120
    assert values["destinations_breakers_open"] == 1
    DeliveryLogFactory(destination=log.destination, next_attempt_at=now)
    list(collector.collect())
    assert collector.reads == 1  # cached: a second scrape did not ask the database
    fresh = PipelineHealthCollector(max_age=0)
    assert {m.name: m.samples[0].value for m in fresh.collect()}["destinations_backlog_due"] == 3


@pytest.mark.worker
@pytest.mark.slow
def test_every_metric_named_is_served(celery_worker_process, client, account):
    now = timezone.now()
    DeliveryLogFactory(
        destination=DestinationFactory(account=account, is_active=False),
        status="held",
        next_attempt_at=None,
    )
    DestinationFactory(
        account=account, breaker_trips=1, breaker_open_until=now + timedelta(hours=1)
    )
    worker = celery_worker_process()
    client.get("/api/v1/")  # a response, so the per-status series exist
    web = served_sample_names(client.get("/metrics").content.decode())
    wait_until(
        lambda: "destinations_backlog_due" in worker.metrics(), message="the worker's gauges"
    )
    worker_text = worker.metrics()
    assert metric_value(worker_text, "destinations_breakers_open") == 1
    served = web | served_sample_names(worker_text) | PROMETHEUS_SERIES
    named = set()
    for expr in dashboard_queries() + [rule["expr"] for rule in alert_rules()]:
        named |= metric_names(expr)
    assert named, "no metric found in the files"
    assert named <= served, sorted(named - served)
