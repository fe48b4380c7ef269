"""JWT (djangorestframework-simplejwt): lifetimes, signing key, and the revocation denylist.

Imported by base.py after the framework settings it reads.
"""

from datetime import timedelta
from typing import Any

from backend.env import env, env_secret
from backend.settings.base import SECRET_KEY
from backend.settings.celery import CELERY_BEAT_SCHEDULE

SIMPLE_JWT: dict[str, Any] = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_secret("JWT_SIGNING_KEY") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer", "Token"),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": True,
}
# The cache token denylist is rebuilt from PostgreSQL at least this often (and at once after a
# Redis restart or flush), which also bounds what an evicting Redis could make it forget.
JWT_DENYLIST_RELOAD_SECONDS = env.int("JWT_DENYLIST_RELOAD_SECONDS", default=3600)
CELERY_BEAT_SCHEDULE["users-purge-expired-revocations"] = {
    "task": "users.purge_expired_revocations",
    "schedule": 3600.0,
}
