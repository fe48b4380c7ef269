"""Test settings: the base settings with a fast password hasher and mail in memory."""

from backend.env import env

from . import base
from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Worker processes started by tests can be pointed at a test's SMTP server instead.
EMAIL_BACKEND = env.str(
    "TEST_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend"
)
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
# Tests do not run collectstatic: plain storage, no manifest.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The embedded broker of the tests is a file of their own: a `make run` in the same checkout keeps
# var/broker.sqlite3, and a test's purge must not empty its queue (nor its worker take our tasks).
if base.CELERY_BROKER_URL == base.EMBEDDED_BROKER_URL and not env.str("BROKER_DB_NAME", default=""):
    BROKER_SQLITE_PATH = base.VAR_DIR / "test-broker.sqlite3"
    CELERY_BROKER_URL = f"sqla+sqlite:///{BROKER_SQLITE_PATH}"
