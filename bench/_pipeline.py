"""Pieces the delivery benches share: bench accounts with sink destinations, events inserted in
bulk (the worker fans them out), a delivery worker, the asyncio client as a child process.

Every bench account is named `bench-...`; `reset()` removes their events, logs, attempts and
destinations (only theirs), so a run starts from an empty pipeline in the bench database.
"""

from __future__ import annotations

import functools
import json
import subprocess

from bench import _harness as h

RESET = """
from django.db import connection
from accounts.models import Account
from destinations.models import DeliveryAttempt, DeliveryLog, Destination, Event

ids = list(Account.objects.filter(name__startswith="bench-").values_list("id", flat=True))
if ids:
    marks = ",".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {DeliveryAttempt._meta.db_table} WHERE log_id IN "
            f"(SELECT id FROM {DeliveryLog._meta.db_table} WHERE account_id IN ({marks}))", ids
        )
        for model in (DeliveryLog, Event, Destination):
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE account_id IN ({marks})", ids)
if connection.vendor == "postgresql":
    # Every round starts from clean tables: without this, the dead rows of the rounds before
    # (hundreds of thousands where autovacuum is off, as on the bench machines) sit in the queue
    # indexes and each claim and fan-out walks them (auto_explain: 10-15 ms per statement).
    with connection.cursor() as cursor:
        for model in (DeliveryAttempt, DeliveryLog, Event, Destination):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
print(json.dumps({"accounts": len(ids)}))
"""

SETUP = """
from accounts.models import Account
from destinations.models import Destination

params = json.loads(PARAMS)
out = {}
for name, url in params.items():
    account, _ = Account.objects.get_or_create(name=name)
    Destination.objects.filter(account=account).delete()
    destination = Destination.objects.create(account=account, url=url) if url else None
    out[name] = {
        "account_id": account.pk,
        "token": str(account.app_secret_token),
        "destination_id": destination.pk if destination else None,
    }
print(json.dumps(out))
"""

INSERT = """
import time
from django.db import transaction
from django.utils import timezone
from destinations.models import Event

out = []
for group in json.loads(PARAMS):
    body = json.dumps({"event": "bench", "value": 42, "nested": {"a": [1, 2, 3]}})
    with transaction.atomic():  # one commit: the whole burst becomes visible at once
        now = timezone.now()
        Event.objects.bulk_create(
            [
                Event(account_id=group["account_id"], event_id=f"{group['prefix']}{i}",
                      body=body, received_at=now)
                for i in range(group["count"])
            ],
            batch_size=2000,
        )
    out.append(time.time())
print(json.dumps(out))
"""

STATUSES = """
from django.db.models import Count
from destinations.models import DeliveryLog

rows = (DeliveryLog.objects.filter(account__name__startswith="bench-")
        .values("status").annotate(n=Count("id")))
print(json.dumps({r["status"]: r["n"] for r in rows}))
"""


SETTLE = """
import time
from destinations.models import DeliveryLog

params = json.loads(PARAMS)
deadline = time.time() + params["timeout"]
open_logs = DeliveryLog.objects.filter(
    account__name__startswith="bench-", status__in=["pending", "in_progress"]
)
while True:
    left = open_logs.count()
    if left == 0 or time.time() >= deadline:
        break
    time.sleep(0.2)
print(json.dumps({"settled_at": time.time(), "open": left}))
"""


def _eval(env: dict, code: str, params, timeout: float = 120) -> dict | list:
    return h.django_eval(env, f"PARAMS = {json.dumps(json.dumps(params))}\n{code}", timeout)


RATE_LIMIT = """
from destinations.models import Destination

params = json.loads(PARAMS)
Destination.objects.filter(pk=params["id"]).update(rate_limit=params["rate"])
print(json.dumps({}))
"""


def set_rate_limit(env: dict, destination_id: int, rate: int | None) -> None:
    """Deliveries per second at most for one destination (None: no limit)."""
    _eval(env, RATE_LIMIT, {"id": destination_id, "rate": rate})


def reset(env: dict) -> None:
    h.django_eval(env, RESET)


def setup_accounts(env: dict, destinations: dict[str, str | None]) -> dict:
    """{account name: sink URL or None} → {name: {account_id, token, destination_id}}."""
    return _eval(env, SETUP, destinations)


def insert_events(env: dict, groups: list[tuple[int, str, int]]) -> list[float]:
    """Inserts each (account_id, event-id prefix, count) group in one transaction, in order;
    returns each group's commit time (time.time())."""
    params = [{"account_id": a, "prefix": p, "count": n} for a, p, n in groups]
    return _eval(env, INSERT, params)


def wait_settled(env: dict, timeout: float) -> dict:
    """Waits until no bench log is pending or in progress; {settled_at (time.time()), open}."""
    if timeout <= 0:
        return {"open": -1}
    return _eval(env, SETTLE, {"timeout": timeout}, timeout=timeout + 60)


def log_statuses(env: dict) -> dict:
    return h.django_eval(env, STATUSES)


def delivery_env(*, delivery_concurrency: int | None = None, extra: dict | None = None) -> dict:
    """bench_env for a delivery run: the sink on 127.0.0.1 is allowed past the SSRF guard."""
    env_extra = {"DESTINATION_ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING"}
    if delivery_concurrency:
        env_extra["DELIVERY_CONCURRENCY"] = str(delivery_concurrency)
    env_extra.update(extra or {})
    return h.bench_env("bench", env_extra)


def start_worker(env: dict, args, *, log_name: str = "bench-worker") -> h.ServerProcess:
    """One Celery worker as the Procfile starts it (`--concurrency N`, prefork unless `--pool`)."""
    return h.start_celery_worker(
        env, concurrency=args.worker_concurrency, pool=args.pool, log_name=log_name
    )


def add_worker_options(parser) -> None:
    opt = functools.partial(h.add_option, parser)
    opt("--worker-concurrency", 2, int, "celery worker --concurrency (Procfile: 2)")
    opt("--delivery-concurrency", None, int, "worker DELIVERY_CONCURRENCY (None: the product's)",
        env="DELIVERY_CONCURRENCY")  # fmt: skip
    opt("--pool", None, str, "celery worker --pool (None: prefork)", env="BENCH_WORKER_POOL")
    opt("--timeout", 300.0, float, "seconds to wait for the deliveries; the rest count as lost")


def http_client(
    url: str,
    *,
    count: int,
    concurrency: int,
    headers: dict | None = None,
    id_header: str = "",
    id_prefix: str = "",
    deadline: float = 600,
) -> dict:
    """Runs bench._http_client in a child process and returns its JSON summary."""
    cmd = [h.PYTHON, "-m", "bench._http_client", "--url", url, "--count", str(count),
           "--concurrency", str(concurrency), "--deadline", str(deadline)]  # fmt: skip
    for name, value in (headers or {}).items():
        cmd += ["--header", f"{name}: {value}"]
    if id_header:
        cmd += ["--id-header", id_header, "--id-prefix", id_prefix]
    result = subprocess.run(
        cmd, cwd=h.ROOT, check=True, capture_output=True, text=True, timeout=deadline + 30
    )
    return json.loads(result.stdout.strip().splitlines()[-1])
