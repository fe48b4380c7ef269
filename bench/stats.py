"""Destination stats on a big attempts table: the time of `destination_stats` per window.

PostgreSQL only (the rows are made with `generate_series`): `--attempts` attempts (default
1,000,000, four per log) spread over `--destinations` destinations of one account and `--days`
days, then VACUUM ANALYZE. The reference is a bare `count(*)` of the same destination's attempts
in the same 24 h, through the same index. Target: the 24h stats in <= 50 ms.
Run: `make bench BENCH_ARGS=stats` (`--attempts 10000` for a quick check).
"""

from __future__ import annotations

import argparse

from bench import _harness as h

SETUP = """
from django.db import connection
from accounts.models import Account
from destinations.models import DeliveryAttempt, Destination

attempts, destinations, days = {attempts}, {destinations}, {days}
account, _ = Account.objects.get_or_create(name="bench-stats")
if (
    account.destinations.count() != destinations
    or DeliveryAttempt.objects.filter(log__account=account).count() != attempts
):
    account.delete()
    account = Account.objects.create(name="bench-stats")
    Destination.objects.bulk_create(
        [Destination(account=account, url=f"https://93.184.216.34/{{i}}") for i in range(destinations)]
    )
    ids = list(account.destinations.order_by("id").values_list("id", flat=True))
    logs = attempts // 4
    with connection.cursor() as cursor:
        # Events and logs spread evenly over the days; each log ends success after 3 retries.
        cursor.execute(
            "INSERT INTO destinations_event (account_id, event_id, event_type, body, received_at,"
            " fanned_out_at) SELECT %s, 'evt_bench_stats_' || n, '', '{{}}',"
            " now() - (n * %s::float / %s) * interval '1 day', now()"
            " FROM generate_series(1, %s) AS n",
            [account.pk, days, logs, logs],
        )
        cursor.execute(
            "INSERT INTO destinations_deliverylog (created_at, updated_at, event_id,"
            " destination_id, account_id, status, attempts, round_start_attempts,"
            " last_error, received_timestamp, processed_timestamp)"
            " SELECT now(), now(), e.id, (%s::bigint[])[1 + e.id %% %s], e.account_id, 'success',"
            " 4, 0, '', e.received_at, e.received_at FROM destinations_event e"
            " WHERE e.account_id = %s",
            [ids, len(ids), account.pk],
        )
        cursor.execute(
            "INSERT INTO destinations_deliveryattempt (log_id, destination_id, attempt_number,"
            " started_at, duration_ms, status_code, error, response_body, outcome)"
            " SELECT l.id, l.destination_id, k, l.received_timestamp + k * interval '1 second',"
            " 5 + (l.id * 7919 + k * 104729) %% 500, CASE WHEN k = 4 THEN 200 ELSE 503 END,"
            " CASE WHEN k = 4 THEN '' ELSE 'HTTP 503.' END, '',"
            " CASE WHEN k = 4 THEN 'success' ELSE 'retry' END"
            " FROM destinations_deliverylog l, generate_series(1, 4) AS k WHERE l.account_id = %s",
            [account.pk],
        )
connection.ensure_connection()
old_autocommit = connection.get_autocommit()
connection.set_autocommit(True)
with connection.cursor() as cursor:
    for table in ("destinations_event", "destinations_deliverylog", "destinations_deliveryattempt"):
        cursor.execute(f"VACUUM ANALYZE {{table}}")
connection.set_autocommit(old_autocommit)
destination = account.destinations.order_by("id").first()
print(json.dumps({{"destination_id": destination.pk}}))
"""

MEASURE = """
import statistics, time
from datetime import timedelta
from django.db import connection
from django.utils import timezone
from destinations.models import Destination
from destinations.stats import destination_stats

destination = Destination.objects.get(pk={destination_id})
result = {{}}
for window in ("1h", "24h", "7d"):
    times = []
    for _ in range({repeat}):
        start = time.perf_counter()
        body = destination_stats(destination=destination, window_name=window)
        times.append((time.perf_counter() - start) * 1000)
    result[window] = {{"ms": statistics.median(times), "attempts": body["attempts"]["total"]}}
times = []
since = timezone.now() - timedelta(hours=24)
for _ in range({repeat}):
    start = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM destinations_deliveryattempt"
            " WHERE destination_id = %s AND started_at >= %s",
            [destination.pk, since],
        )
        cursor.fetchone()
    times.append((time.perf_counter() - start) * 1000)
result["reference"] = {{"ms": statistics.median(times)}}
with connection.cursor() as cursor:
    cursor.execute(
        "EXPLAIN SELECT count(*) FROM destinations_deliveryattempt"
        " WHERE destination_id = %s AND started_at >= %s",
        [destination.pk, since],
    )
    result["plan"] = cursor.fetchall()[1][0].strip() if cursor.rowcount else ""
print(json.dumps(result))
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.stats")
    h.add_option(parser, "--attempts", 1_000_000, int, "attempt rows to generate")
    h.add_option(parser, "--destinations", 10, int, "destinations sharing them")
    h.add_option(parser, "--days", 30, int, "days the attempts span")
    h.add_option(parser, "--repeat", 20, int, "calls per window (median)")
    args, _ = parser.parse_known_args(argv)  # bench/__main__ passes module names too
    return args


def run(argv: list[str]) -> None:
    args = parse(argv)
    env = h.bench_env("bench")
    if not env["DATABASE_URL"].startswith(("postgres://", "postgresql://")):
        print("bench.stats needs PostgreSQL (DATABASE_URL or BENCH_DATABASE_URL): skipped")
        return
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    h.prepare_database(env)
    setup = SETUP.format(attempts=args.attempts, destinations=args.destinations, days=args.days)
    made = h.django_eval(env, setup, timeout=1800)
    result = h.django_eval(
        env, MEASURE.format(destination_id=made["destination_id"], repeat=args.repeat)
    )
    reference = result["reference"]["ms"]
    print(f"reference plan: {result['plan']}", flush=True)
    for window in ("1h", "24h", "7d"):
        figure = result[window]
        print(
            f"stats {window}: {figure['ms']:.1f} ms (median of {args.repeat}; "
            f"{figure['attempts']} attempts in the window, {args.attempts} in the table) vs "
            f"bare count(*) of the 24h attempts {reference:.2f} ms: ratio "
            f"{figure['ms'] / reference if reference else float('nan'):.1f}"
            + (" (target <= 50 ms)" if window == "24h" else ""),
            flush=True,
        )
