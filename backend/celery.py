"""Celery application: configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery

from backend.common import embedded_broker, worker_metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.base")

# Before the app: the worker's metrics mode is set ahead of the Django fixup's django.setup().
worker_metrics.connect()
# `sqla+sqlite:///` (the embedded default) resolves to the SQLite-tuned transport.
embedded_broker.register()

app = Celery("backend")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
