"""Celery application: configured from Django settings under the CELERY_ namespace."""

import os

from celery import Celery

from backend.common import worker_metrics

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.base")

# Before the app: the worker's metrics mode is set ahead of the Django fixup's django.setup().
worker_metrics.connect()

app = Celery("backend")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
