"""SENTRY_DSN is all it takes: settings start Sentry with the Django and Celery integrations, no PII."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json
import django
django.setup()
import sentry_sdk
client = sentry_sdk.get_client()
print(json.dumps({
    "active": client.is_active(),
    "dsn": client.options["dsn"],
    "pii": client.options["send_default_pii"],
    "environment": client.options["environment"],
    "integrations": sorted(client.integrations),
}))
"""


def _probe(**env) -> dict:
    environ = {"DJANGO_SETTINGS_MODULE": "backend.settings.test", "PATH": "/usr/bin:/bin", **env}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env=environ,
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_dsn_starts_sentry_with_pii_off():
    # Nothing listens on port 9 and nothing is captured: no traffic.
    dsn = "http://public@127.0.0.1:9/1"
    probe = _probe(SENTRY_DSN=dsn, ENVIRONMENT="staging")
    assert probe["active"] is True
    assert probe["dsn"] == dsn
    assert probe["pii"] is False
    assert probe["environment"] == "staging"
    assert {"django", "celery"} <= set(probe["integrations"])


def test_no_dsn_leaves_sentry_off():
    assert _probe()["active"] is False
