"""The test harness's gunicorn (tests/support/gunicorn.py) leaves nothing behind: its port is the
one the kernel gave its socket (no probe-then-bind race), its log file is closed once it stops.
(That it dies with a killed test process: tests/common/test_worker_cleanup.py.)"""

import os
import socket
from pathlib import Path

import pytest

from tests.support.gunicorn import LISTENING_LINE, GunicornProcess

pytestmark = [pytest.mark.slow]


def open_paths() -> set[Path]:
    """The files this process holds open."""
    paths = set()
    for fd in Path("/proc/self/fd").iterdir():
        try:
            paths.add(Path(os.readlink(fd)))
        except OSError:
            continue
    return paths


def test_the_server_listens_on_the_port_the_kernel_gave_it_and_closes_its_log(
    transactional_db, tmp_path
):
    # A port probed free a moment ago is taken by someone else before the server starts: it
    # must not matter, the server never binds a port picked in advance.
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        server = GunicornProcess(tmp_path, workers=1).start()
        try:
            assert server.port != squatter.getsockname()[1]
            assert LISTENING_LINE.search(server.logs()).group(1) == str(server.port)
            assert server.get("/health/")[0] == 200
            assert server.log_path in open_paths()
        finally:
            server.stop()
    assert server.process.poll() is not None
    assert server.log_path not in open_paths()


def test_a_server_that_cannot_bind_fails_fast_and_closes_its_log(transactional_db, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        server = GunicornProcess(tmp_path, workers=1, port=taken.getsockname()[1])
        with pytest.raises(RuntimeError, match="exited early"):
            server.start()
    assert server.process.poll() is not None
    assert server.log_path not in open_paths()
