"""One shared `env` reader for every settings module (12-factor configuration)."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# Reading `.env` is opt-in so that tests and CI never pick up a developer's local file by accident.
if env.bool("DJANGO_READ_DOT_ENV_FILE", default=False):
    environ.Env.read_env(str(BASE_DIR / ".env"), parse_comments=True)


def env_secret(name: str, default: str = "") -> str:
    """A secret from `NAME` or from the file named by `NAME_FILE` (container secrets)."""
    file_path = env.str(f"{name}_FILE", default="")
    if file_path:
        return Path(file_path).read_text().strip()
    return env.str(name, default=default)
