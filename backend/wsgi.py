"""WSGI entry point (gunicorn backend.wsgi)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings.base")
django.setup(set_prefix=False)

from backend.common.wsgi import PathRoutedWSGIHandler  # noqa: E402 - needs the settings set up

# Ingest paths take a shorter middleware chain (backend/common/wsgi.py).
application = PathRoutedWSGIHandler()
