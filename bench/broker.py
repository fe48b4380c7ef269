"""Embedded broker candidates: publish->consume latency, throughput and robustness.

For each candidate (kombu's SQLAlchemy transport on a SQLite file, as configured by
backend/common/embedded_broker.py; kombu's filesystem transport, the old default), in a fresh
temporary directory: `--publishers` processes start together (as web, beat and worker do) and
each publishes `--messages` messages stamped with their send time, while one consumer process
drains the queue (its polling interval as in settings). Reported: messages received out of those
sent, consumer errors (the filesystem transport's JSONDecodeError on a half-written file), p50/p99
latency from publish to receipt, and messages per second over the whole run.

Run: `python -m bench broker` (or `make bench BENCH_ARGS="broker --messages 2000"`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._options import add_option, num

ROOT = Path(__file__).resolve().parent.parent

PUBLISH = """
import sys, time
from kombu import Connection
from backend.common import embedded_broker
embedded_broker.register()
url, options, count = sys.argv[1], eval(sys.argv[2]), int(sys.argv[3])
with Connection(url, transport_options=options) as connection:
    queue = connection.SimpleQueue("bench")
    for n in range(count):
        queue.put({"sent": time.time(), "n": n})
    queue.close()
"""

CONSUME = """
import json, sys, time
from kombu import Connection
from backend.common import embedded_broker
embedded_broker.register()
url, options, expected, deadline = sys.argv[1], eval(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
latencies, errors, started = [], [], None
with Connection(url, transport_options=options) as connection:
    queue = connection.SimpleQueue("bench")
    while len(latencies) < expected and time.time() < deadline:
        try:
            message = queue.get(timeout=1)
        except queue.Empty:
            continue
        except Exception as error:  # a broken transport: count it and go on, as a worker would not
            errors.append(type(error).__name__)
            continue
        started = started or time.time()
        latencies.append(time.time() - message.payload["sent"])
        message.ack()
print(json.dumps({"latencies": latencies, "errors": errors, "finished": time.time()}))
"""


def candidates(directory: Path) -> dict[str, tuple[str, dict]]:
    folder = directory / "fs"
    for sub in ("out", "processed", "control"):
        (folder / sub).mkdir(parents=True)
    return {
        "sqlite (kombu SQLAlchemy)": (
            f"sqla+sqlite:///{directory / 'broker.sqlite3'}",
            {"polling_interval": 0.1},
        ),
        "filesystem (old default)": (
            "filesystem://",
            {
                "data_folder_in": str(folder / "out"),
                "data_folder_out": str(folder / "out"),
                "processed_folder": str(folder / "processed"),
                "control_folder": str(folder / "control"),
                "store_processed": False,
                "polling_interval": 0.05,
            },
        ),
    }


def run_candidate(url: str, options: dict, publishers: int, messages: int, timeout: float) -> dict:
    expected = publishers * messages
    began = time.time()
    consumer = subprocess.Popen(
        [sys.executable, "-c", CONSUME, url, repr(options), str(expected), str(began + timeout)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    pubs = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISH, url, repr(options), str(messages)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
        )
        for _ in range(publishers)
    ]
    failed_publishers = sum(1 for p in pubs if p.wait(timeout=timeout + 30) != 0)
    out, err = consumer.communicate(timeout=timeout + 30)
    if consumer.returncode != 0:
        return {"received": 0, "expected": expected, "crashed": err.decode()[-300:]}
    result = json.loads(out)
    latencies = sorted(result["latencies"])
    elapsed = result["finished"] - began
    return {
        "expected": expected,
        "received": len(latencies),
        "consumer_errors": len(result["errors"]),
        "failed_publishers": failed_publishers,
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000 if latencies else float("nan"),
        "per_second": len(latencies) / elapsed if elapsed else float("nan"),
    }


def run(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench.broker")
    add_option(parser, "--publishers", 3, int, "publisher processes started together")
    add_option(parser, "--messages", 500, int, "messages per publisher")
    add_option(parser, "--timeout", 120.0, float, "seconds a candidate may take")
    args, _ = parser.parse_known_args(argv)
    print(f"{args.publishers} publishers x {args.messages} messages, one consumer")
    print("candidate                    received   errors  p50 ms   p99 ms   msg/s")
    for name, (url, options) in candidates(Path(tempfile.mkdtemp(prefix="bench-broker-"))).items():
        r = run_candidate(url, options, args.publishers, args.messages, args.timeout)
        if "crashed" in r:
            print(f"{name:<28} consumer crashed: {r['crashed']}")
            continue
        print(
            f"{name:<28} {r['received']:>5}/{r['expected']:<5} {r['consumer_errors']:>5}"
            f"  {num(r['p50_ms'], 1):>7}  {num(r['p99_ms'], 1):>7}  {num(r['per_second']):>6}"
            + (f"  ({r['failed_publishers']} publishers failed)" if r["failed_publishers"] else "")
        )
