"""`make run` as a newcomer meets it: the first install shows pip's progress, the processes run
under the supervisor (not honcho, which stopped everything when one died), PORT reaches them."""

import re

from tests.support.worker import ROOT

MAKEFILE = (ROOT / "Makefile").read_text()


def recipe(target: str) -> str:
    return re.search(rf"^{target}:.*\n((?:\t.*\n)+)", MAKEFILE, re.MULTILINE).group(1)


def test_the_requirements_install_shows_progress():
    install = recipe(r"\$\(STAMP\)")
    line = next(line for line in install.splitlines() if "-r requirements.txt" in line)
    assert "--quiet" not in line and "-q " not in line
    assert "echo" in install  # a line saying what is happening before pip starts


def test_make_run_starts_the_procfile_under_the_supervisor_with_port_exported():
    assert "backend/supervisor.py Procfile" in recipe("run")
    assert "honcho" not in recipe("run")
    assert re.search(r"^export HOST PORT$", MAKEFILE, re.MULTILINE)
    procfile = (ROOT / "Procfile").read_text()
    assert "gunicorn.conf.py" in procfile  # which binds HOST:PORT from the environment
