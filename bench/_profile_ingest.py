"""Where an ingest call's time goes: the three documented calls profiled with pyinstrument.

In-process, through the WSGI application gunicorn serves (backend.wsgi: the same middleware,
authentication, throttle-off, INSERT and rendering as under gunicorn, without the HTTP parsing),
on the bench database with a warm cache, `--requests` calls in a row per call after a warm-up.
Prints each call's mean time per request and pyinstrument's call tree (frames under 2 % hidden).

`--middleware` instead measures what each middleware of the full chain costs on the ingest call
(CL-X-TOKEN): the full chain against the full chain without that one middleware, in alternating
rounds, medians, microseconds per request (tells which ones the slim chain may skip; a handful of
microseconds is below what this can resolve on a shared machine).

Run: `.venv/bin/python -m bench._profile_ingest --requests 2000` (not part of `make bench`: a
profile, not a figure). The README's ingest section summarises its output.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time

from bench import _harness as h
from bench.ingest import BODY, CLEAN, PATH, SETUP


def ingest_through(handler, headers: dict) -> None:
    """One ingest call through a WSGI `handler` (as gunicorn would make it); 200 or an error.
    `headers` are WSGI environ keys (`HTTP_CL_X_TOKEN`)."""
    from django.test import RequestFactory

    request = RequestFactory().post(
        PATH, data=BODY, content_type="application/json", HTTP_HOST="127.0.0.1", **headers
    )
    environ = dict(request.environ)
    environ["wsgi.input"] = io.BytesIO(BODY.encode())
    statuses: list[str] = []
    b"".join(handler(environ, lambda status, headers, exc=None: statuses.append(status)))
    if not statuses[0].startswith("200"):
        raise RuntimeError(f"{statuses[0]} for {list(headers)}")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="bench._profile_ingest")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--middleware", action="store_true", help="cost of each middleware")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds (--middleware)")
    args = parser.parse_args(argv)

    env = h.bench_env("bench", {"INGEST_THROTTLE_RATE": "none"})
    h.prepare_database(env)
    creds = h.django_eval(env, SETUP)
    os.environ.update(env)

    from pyinstrument import Profiler

    from backend.wsgi import application

    calls = {
        "CL-X-TOKEN": {"HTTP_CL_X_TOKEN": creds["token"]},
        "Token JWT + CL-X-TOKEN": {
            "HTTP_CL_X_TOKEN": creds["token"],
            "HTTP_AUTHORIZATION": f"Token {creds['jwt']}",
        },
        "X-API-Key": {"HTTP_X_API_KEY": creds["api_key"]},
    }

    def one(headers: dict) -> None:
        ingest_through(application, headers)

    if args.middleware:
        try:
            measure_middleware(ingest_through, calls["CL-X-TOKEN"], args)
        finally:
            h.django_eval(env, CLEAN)
        return

    try:
        for label, headers in calls.items():
            for _ in range(args.warmup):
                one(headers)
            profiler = Profiler(interval=0.0005)
            began = time.perf_counter()
            with profiler:
                for _ in range(args.requests):
                    one(headers)
            per_request = (time.perf_counter() - began) / args.requests * 1000
            print(f"\n===== {label}: {per_request:.2f} ms per request (profiled, in-process)")
            print(
                profiler.output_text(
                    unicode=False, color=False, show_all=False, time="percent_of_total"
                )
            )
    finally:
        h.django_eval(env, CLEAN)
    print(json.dumps({"requests": args.requests}), file=sys.stderr)


# Middleware that refuses to run without another one: measured together with it.
NEEDS = {
    "django.contrib.sessions.middleware.SessionMiddleware": (
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
        "allauth.account.middleware.AccountMiddleware",
    ),
    "django.contrib.auth.middleware.AuthenticationMiddleware": (
        "allauth.account.middleware.AccountMiddleware",
    ),
    "django.contrib.messages.middleware.MessageMiddleware": (
        "allauth.account.middleware.AccountMiddleware",
    ),
    "django_prometheus.middleware.PrometheusBeforeMiddleware": (
        "django_prometheus.middleware.PrometheusAfterMiddleware",
    ),
}


def measure_middleware(one_through, headers: dict, args: argparse.Namespace) -> None:
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler

    def chain(names: list[str]) -> WSGIHandler:
        class Handler(WSGIHandler):
            def load_middleware(self, is_async: bool = False) -> None:
                full = settings.MIDDLEWARE
                settings.MIDDLEWARE = names
                try:
                    super().load_middleware(is_async)
                finally:
                    settings.MIDDLEWARE = full

        return Handler()

    full = list(settings.MIDDLEWARE)
    handlers = {"(full chain)": chain(full)}
    for name in full:
        gone = {name, *NEEDS.get(name, ())}
        handlers[name] = chain([other for other in full if other not in gone])
    handlers["(slim chain: all of SLIM_SKIPPED_MIDDLEWARE)"] = chain(
        [other for other in full if other not in settings.SLIM_SKIPPED_MIDDLEWARE]
    )
    timings: dict[str, list[float]] = {label: [] for label in handlers}
    for handler in handlers.values():
        for _ in range(args.warmup):
            one_through(handler, headers)
    for _ in range(args.rounds):
        for label, handler in handlers.items():
            began = time.perf_counter()
            for _ in range(args.requests):
                one_through(handler, headers)
            timings[label].append((time.perf_counter() - began) / args.requests * 1e6)
    base = statistics.median(timings["(full chain)"])
    print(f"full chain: {base:.0f} us per ingest request (median of {args.rounds} rounds)")
    for label in handlers:
        if label == "(full chain)":
            continue
        saved = base - statistics.median(timings[label])
        with_needing = f" (with {', '.join(NEEDS[label])})" if label in NEEDS else ""
        print(f"{saved:8.0f} us  {label}{with_needing}")


if __name__ == "__main__":
    main(sys.argv[1:])
