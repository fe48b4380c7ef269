"""Points the test process's Celery app at a closed port: a real connection failure, no mock."""

from contextlib import contextmanager

from backend.celery import app

UNREACHABLE_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _use_broker(url: str) -> None:
    app.conf.broker_url = url
    # Drop pooled connections and producers so the next publish dials the new URL.
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def broker_unreachable():
    saved = app.conf.broker_url
    _use_broker(UNREACHABLE_BROKER)
    try:
        yield
    finally:
        _use_broker(saved)
