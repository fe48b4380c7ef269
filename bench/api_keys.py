"""API-key vs JWT authentication: the same authenticated GET, requests/s and latency.

gunicorn (2 workers) on a free 127.0.0.1 port against the bench database; 8 client threads for
`--duration` seconds (default 10) per credential. Throttles are raised for the run.
Run: `python -m bench api_keys` (or `make bench BENCH_ARGS=api_keys`).
"""

from __future__ import annotations

import argparse
import statistics

from bench import _harness as h

PATH = "/api/v1/tasks/"

SETUP = """
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
from endpoints.services import api_key_create

User = get_user_model()
user = User.objects.filter(email="bench-api-keys@example.com").first()
if user is None:
    user = User.objects.create_user(
        email="bench-api-keys@example.com", username="bench-api-keys", password=None
    )
user.api_keys.all().delete()
_, raw = api_key_create(user=user, name="bench")
print(json.dumps({"api_key": raw, "jwt": str(RefreshToken.for_user(user).access_token)}))
"""


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.api_keys")
    h.add_option(parser, "--duration", 10.0, float, "seconds per run")
    h.add_option(parser, "--concurrency", 8, int, "client threads")
    h.add_option(parser, "--rounds", 3, int, "alternating rounds")
    args, _ = parser.parse_known_args(argv)  # bench/__main__ passes module names too
    return args


def run(argv: list[str]) -> None:
    args = parse(argv)
    env = h.bench_env("bench")
    print(f"bench database: {env['DATABASE_URL'].split('@')[-1]}", flush=True)
    h.prepare_database(env)
    creds = h.django_eval(env, SETUP)
    credentials = (
        ("api-key", {"X-API-Key": creds["api_key"]}),
        ("jwt", {"Authorization": f"Bearer {creds['jwt']}"}),
    )
    runs: dict[str, list[h.Stats]] = {label: [] for label, _ in credentials}
    with h.start_gunicorn(env, workers=2) as server:
        url = server.base_url + PATH
        # Alternate the credentials round by round so drift on a shared machine hits both alike.
        for round_number in range(1, args.rounds + 1):
            for label, headers in credentials:
                stats = h.load(
                    url, headers=headers, concurrency=args.concurrency, duration=args.duration
                )
                runs[label].append(stats)
                print(f"round {round_number} " + stats.line(label), flush=True)
    for label, _ in credentials:
        print(h.median_line(label, runs[label]), flush=True)
    api_key_rps = statistics.median(r.rps for r in runs["api-key"])
    jwt_rps = statistics.median(r.rps for r in runs["jwt"])
    ratio = api_key_rps / jwt_rps if jwt_rps else float("nan")
    print(
        f"GET {PATH}, gunicorn 2 workers, concurrency {args.concurrency}, "
        f"{args.rounds} rounds of {args.duration:g} s each: api-key/jwt throughput ratio "
        f"{ratio:.2f} (medians)",
        flush=True,
    )
