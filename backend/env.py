"""One shared `env` reader for every settings module (12-factor configuration)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

# Reading `.env` is opt-in so that tests and CI never pick up a developer's local file by accident.
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(str(BASE_DIR / ".env"), parse_comments=True)

# The one root of every embedded file (SQLite database, file cache, embedded broker, worker
# metrics, logs): a test session points it at a temporary directory of its own, so a test never
# touches the files of a `make run` in the same checkout.
VAR_DIR = Path(env.str("VAR_DIR", default="") or BASE_DIR / "var").resolve()


def env_secret(name: str, default: str = "") -> str:
    """A secret from `NAME` or from the file named by `NAME_FILE` (container secrets)."""
    file_path = env.str(f"{name}_FILE", default="")
    if file_path:
        return Path(file_path).read_text().strip()
    return env.str(name, default=default)
