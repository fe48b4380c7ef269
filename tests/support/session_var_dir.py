"""pytest plugin (`-p tests.support.session_var_dir` in pyproject's addopts): every test session
gets a fresh `VAR_DIR` of its own, set before Django's settings load.

The embedded SQLite file, file cache, broker folder and worker metrics all derive from `VAR_DIR`
(backend/env.py), so `cache.clear()` or a purge in a fixture never wipes a `make run` of the same
checkout, and every worker or gunicorn a test starts inherits the same directory. A nested session
(a test that runs pytest in a subprocess) gets a directory of its own too, never its parent's.
"""

import os
import shutil
import tempfile
from pathlib import Path

REPO_VAR_DIR = Path(__file__).resolve().parents[2] / "var"

# At import: `-p` plugins are imported before pytest-django reads the settings.
SESSION_VAR_DIR = Path(tempfile.mkdtemp(prefix="backend-test-var-")).resolve()
os.environ["VAR_DIR"] = str(SESSION_VAR_DIR)


def pytest_unconfigure(config):
    shutil.rmtree(SESSION_VAR_DIR, ignore_errors=True)
