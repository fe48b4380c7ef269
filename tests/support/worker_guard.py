"""Runs a command in this process group; kills the whole group when the test process dies.

`python tests/support/worker_guard.py <test pid> <command...>`. A test process that ends without
running its cleanup (pytest-timeout's thread method calls os._exit, a SIGKILL, a crash) would
leave its Celery worker running: the guard notices within a second and kills the group.
"""

import os
import signal
import subprocess
import sys
import time

POLL_SECONDS = 0.5


def main() -> int:
    watched = int(sys.argv[1])
    child = subprocess.Popen(sys.argv[2:])  # same process group as the guard

    def forward(signum, _frame):
        child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    while child.poll() is None:
        # Reparented (or the pid gone): the test process died without stopping us.
        if os.getppid() != watched:
            os.killpg(os.getpgrp(), signal.SIGKILL)
        time.sleep(POLL_SECONDS)
    return child.returncode


if __name__ == "__main__":
    sys.exit(main())
