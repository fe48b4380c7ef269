"""Celery: broker (Redis, RabbitMQ or the embedded SQLite one), serialisation, time limits and
the beat schedule that each integration adds its periodic tasks to.

Imported by base.py after the framework settings it reads (HS `config/settings/celery.py`).
"""

from pathlib import Path
from typing import Any

from backend.env import VAR_DIR, env
from backend.settings.base import REDIS_URL

# The embedded broker: kombu's SQLAlchemy transport on a SQLite file of its own (README "Embedded
# broker": chosen over the filesystem transport, whose worker died on a half-written message file).
EMBEDDED_BROKER_PATH = VAR_DIR / env.str("BROKER_DB_NAME", default="broker.sqlite3")
EMBEDDED_BROKER_URL = f"sqla+sqlite:///{EMBEDDED_BROKER_PATH}"
CELERY_BROKER_URL: str = (
    env.str("CELERY_BROKER_URL", default="") or REDIS_URL or EMBEDDED_BROKER_URL
)


def embedded_broker_path(broker_url: str) -> Path | None:
    """The SQLite file of a `sqla+sqlite:///` broker URL (None for any other broker)."""
    for prefix in ("sqla+sqlite:///", "sqlalchemy+sqlite:///"):
        if broker_url.startswith(prefix):
            return Path(broker_url.removeprefix(prefix))
    return None


BROKER_SQLITE_PATH = embedded_broker_path(CELERY_BROKER_URL)
if BROKER_SQLITE_PATH is not None:
    BROKER_SQLITE_PATH.parent.mkdir(parents=True, exist_ok=True)
    # backend/common/embedded_broker.py tunes the SQLite connections (WAL, lock wait, no pool).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, Any] = {
        # An idle worker polls its queues this often (kombu's default is 1 s).
        "polling_interval": env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.1),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis re-delivers unacknowledged messages after this; tasks are idempotent anyway.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is down: the sweepers re-enqueue what was not sent.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=270)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks by name, so no app imports another app's tasks to schedule them.
CELERY_BEAT_SCHEDULE: dict[str, dict[str, Any]] = {}
if BROKER_SQLITE_PATH is not None:
    # kombu's SQLAlchemy transport keeps every taken message: delete them (backend/common/tasks.py).
    CELERY_BEAT_SCHEDULE["common-purge-consumed-broker-messages"] = {
        "task": "common.purge_consumed_broker_messages",
        "schedule": 600.0,
    }
