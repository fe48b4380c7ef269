"""`make run`'s process supervisor: the Procfile's processes (web, worker, beat), one output.

Why not honcho: when one process died, honcho stopped all the others (one worker crash took the
whole product down), and on Ctrl-C it sent SIGTERM to every process *group*, so Celery's pool
children were killed under their parent (`ERROR ... exited with 'signal 15'`). Here:

- a process that exits on its own is reported (name, exit code or signal) and restarted after a
  backoff; one that keeps dying right after its start (a port in use, a broken setting) stops
  everything with a message saying which one and why to look at its last lines;
- Ctrl-C (SIGINT) or SIGTERM sends SIGTERM to each process's main pid only, so each shuts down its
  own children cleanly; whatever is still running after `SUPERVISOR_STOP_SECONDS` is killed.

Usage: `python -m backend.supervisor [Procfile]`.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

RESTART_BACKOFF_SECONDS = tuple(
    float(step) for step in os.environ.get("SUPERVISOR_BACKOFF_SECONDS", "1,2,5,10,30").split(",")
)
# A process that ran at least this long before dying counts as a fresh failure (backoff resets).
HEALTHY_AFTER_SECONDS = float(os.environ.get("SUPERVISOR_HEALTHY_SECONDS", "30"))
# This many deaths in a row, each within HEALTHY_AFTER_SECONDS of its start: give up.
MAX_QUICK_DEATHS = 5
# On Ctrl-C: SIGINT to each process (what a terminal sends), SIGQUIT to those still running after
# HURRY_AFTER_SECONDS, SIGKILL to their groups after STOP_SECONDS.
HURRY_AFTER_SECONDS = float(os.environ.get("SUPERVISOR_HURRY_SECONDS", "1.0"))
STOP_SECONDS = float(os.environ.get("SUPERVISOR_STOP_SECONDS", "2.5"))
_print_lock = threading.Lock()


def say(name: str, line: str) -> None:
    with _print_lock:
        sys.stdout.write(f"{time.strftime('%H:%M:%S')} {name:<6} | {line}\n")
        sys.stdout.flush()


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited with code {returncode}"


def read_procfile(path: Path) -> list[tuple[str, str]]:
    entries = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and ":" in line:
            name, command = line.split(":", 1)
            entries.append((name.strip(), command.strip()))
    return entries


@dataclass
class Child:
    name: str
    command: str
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    quick_deaths: int = 0
    restart_at: float | None = None
    reader: threading.Thread | None = field(default=None, repr=False)

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - the Procfile is the developer's own
            shlex.split(self.command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            # A group of its own: the terminal's Ctrl-C reaches the supervisor only, which then
            # stops each process the way it expects.
            start_new_session=True,
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        self.reader = threading.Thread(target=self._pipe_output, daemon=True)
        self.reader.start()
        say("system", f"{self.name} started (pid {self.process.pid})")

    def _pipe_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for raw in self.process.stdout:
            say(self.name, raw.decode(errors="replace").rstrip())

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum: int) -> None:
        if self.running():
            assert self.process is not None
            self.process.send_signal(signum)

    def kill_group(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)


class Supervisor:
    def __init__(self, entries: list[tuple[str, str]]):
        self.children = [Child(name, command) for name, command in entries]
        self.stopping = False
        self.exit_code = 0

    def _on_signal(self, signum: int, _frame: object) -> None:
        if not self.stopping:
            say("system", f"{signal.Signals(signum).name} received, stopping")
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        for child in self.children:
            child.start()
        while not self.stopping:
            self._watch()
            time.sleep(0.1)
        self._stop_all()
        return self.exit_code

    def _watch(self) -> None:
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.start()
                continue
            if child.running() or child.process is None:
                continue
            if child.reader is not None:
                child.reader.join(timeout=1)  # its last lines first
            lived = now - child.started_at
            child.quick_deaths = child.quick_deaths + 1 if lived < HEALTHY_AFTER_SECONDS else 1
            how = describe_exit(child.process.returncode)
            if child.quick_deaths >= MAX_QUICK_DEATHS:
                say(
                    "system",
                    f"{child.name} {how}, {child.quick_deaths} times in a row right after its "
                    "start: stopping everything (its last lines above say why)",
                )
                self.exit_code = 1
                self.stopping = True
                return
            delay = RESTART_BACKOFF_SECONDS[
                min(child.quick_deaths, len(RESTART_BACKOFF_SECONDS)) - 1
            ]
            say(
                "system",
                f"{child.name} {how} after {lived:.0f} s (unexpected: its last lines above say "
                f"why); restarting it in {delay:g} s, the others keep running",
            )
            child.kill_group()  # children it may have left behind
            child.restart_at = now + delay

    def _stop_all(self) -> None:
        # Listed before signalling: one that exits at once still gets its "stopped" line.
        waiting = [c for c in self.children if c.running()]
        for child in self.children:
            child.restart_at = None
            child.signal(signal.SIGINT)
        began = time.monotonic()
        hurried = False
        while waiting and time.monotonic() < began + STOP_SECONDS:
            if not hurried and time.monotonic() > began + HURRY_AFTER_SECONDS:
                # The quick stop of both: gunicorn's, and Celery's cold shutdown (a task in
                # progress goes back to the queue: acks_late).
                hurried = True
                for child in waiting:
                    child.signal(signal.SIGQUIT)
            for child in [c for c in waiting if not c.running()]:
                waiting.remove(child)
                say("system", f"{child.name} stopped ({time.monotonic() - began:.1f} s)")
            time.sleep(0.05)
        for child in self.children:
            if child in waiting and child.running():
                say("system", f"{child.name} still running after {STOP_SECONDS:g} s: killed")
            child.kill_group()
            if child.reader is not None:
                child.reader.join(timeout=1)


def main(argv: list[str]) -> int:
    procfile = Path(argv[0] if argv else "Procfile")
    return Supervisor(read_procfile(procfile)).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
