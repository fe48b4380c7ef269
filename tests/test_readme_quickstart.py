"""The README's quickstart, run as written against a live stack so it cannot drift: a real gunicorn
(tests/support/gunicorn.py), a real Celery worker (tests/support/worker.py) and the README's own
local receiver (backend/devsink.py), all on 127.0.0.1. The bash blocks of the "Quickstart" section
run in order in one shell; only the addresses are swapped for the test's free ports and files."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time

import pytest

from tests.support.gunicorn import GunicornProcess
from tests.support.worker import ROOT, free_port

pytestmark = [pytest.mark.slow, pytest.mark.worker]

README = ROOT / "README.md"
SENT_BODY = '{"order": 1042, "amount": 19.90, "currency": "EUR"}'
LOCAL_ONLY = {"DESTINATION_ALLOWED_HOSTS": "127.0.0.1"}


def quickstart_blocks() -> list[str]:
    text = README.read_text()
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.*?)```", section, re.DOTALL)


def test_the_readme_starts_with_the_two_commands_then_the_quickstart():
    text = README.read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.DOTALL).group(1)
    assert first_block.splitlines()[0].startswith("make run")
    assert first_block.splitlines()[1].startswith("make test")
    assert text.index("## Quickstart") < text.index("## Make targets")
    assert "../shared/" not in text  # a clone has no such directory


def test_the_quickstart_blocks_cover_the_whole_flow():
    script = "\n".join(quickstart_blocks())
    for step in (
        "DESTINATION_ALLOWED_HOSTS=127.0.0.1 make run",
        "/api/v1/auth/register/",
        "/api/v1/auth/token/",
        "app_secret_token",
        "/destinations/",
        "CL-X-TOKEN: $CL_X_TOKEN",
        "from standardwebhooks import Webhook",
        "/logs/",
    ):
        assert step in script, step


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on {port}")


def test_the_quickstart_runs_against_a_live_server(
    transactional_db, tmp_path, celery_worker_process
):
    server = GunicornProcess(tmp_path, workers=1, extra_env=LOCAL_ONLY)
    sink_port = free_port()
    saved = tmp_path / "last-delivery.json"
    blocks = quickstart_blocks()
    # The first block starts the server and the receiver: the test starts them itself.
    assert "make run" in blocks[0] and "backend/devsink.py" in blocks[0]
    sink = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "backend" / "devsink.py"),
            "--port",
            str(sink_port),
            "--save",
            str(saved),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        server.start()
        celery_worker_process(extra_env=LOCAL_ONLY)
        wait_for_port(sink_port)
        script = "\n".join(blocks[1:])
        script = script.replace("http://127.0.0.1:8000", f"http://127.0.0.1:{server.port}")
        script = script.replace("127.0.0.1:9000", f"127.0.0.1:{sink_port}")
        script = script.replace("/tmp/last-delivery.json", str(saved))
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        server.stop()
        sink.terminate()
        sink_output = sink.communicate(timeout=10)[0].decode()
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n{server.logs()[-3000:]}"
    assert f"signature verified: {SENT_BODY}" in result.stdout
    delivery = json.loads(saved.read_text())
    assert delivery["body"] == SENT_BODY  # byte for byte
    assert delivery["headers"]["webhook-signature"].startswith("v1,")
    assert SENT_BODY in sink_output  # the receiver printed it
    # The log detail shows the payload as sent (19.90, not 19.9).
    assert f'"payload":{SENT_BODY}' in result.stdout
