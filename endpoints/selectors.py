"""Reads of this app: the caller's keys and tasks, task lookups for the compat routes, health."""

from __future__ import annotations

import time
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from endpoints.models import ApiKey, ScheduledTask


def api_key_list(*, user) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(user=user).order_by("-created_at")


def scheduled_task_list(*, user, filters: dict | None = None) -> QuerySet[ScheduledTask]:
    queryset = ScheduledTask.objects.filter(owner=user).order_by("-created_at")
    return queryset.filter(**(filters or {}))


def scheduled_task_get_visible(*, task_id, user) -> ScheduledTask | None:
    """A task by id as the seed 002 routes show it: anonymous tasks to anyone who has the id,
    owned tasks to their owner only (None otherwise, answered as 404)."""
    try:
        task_uuid = uuid.UUID(str(task_id))
    except ValueError:
        return None
    task = ScheduledTask.objects.filter(pk=task_uuid).first()
    if task is None or task.owner_id is None:
        return task
    if user is not None and user.is_authenticated and user.pk == task.owner_id:
        return task
    return None


# --- Health ----------------------------------------------------------------------------------------

_redis_clients: dict = {}


def _redis_client(url: str):
    # One small pool per URL and process: a health probe must not open a connection each time.
    client = _redis_clients.get(url)
    if client is None:
        import redis

        timeout = min(settings.REDIS_SOCKET_TIMEOUT, 1.0)
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, max_connections=4
        )
        _redis_clients[url] = client
    return client


def check_database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # noqa: BLE001 - any failure means "down"
        return False


def check_redis() -> bool:
    """Redis PING on REDIS_URL (1 s timeouts). Without REDIS_URL (embedded default) this checks
    the cache that stands in for Redis (file cache): a set then a get of a fresh value."""
    url = settings.REDIS_URL
    try:
        if url:
            return bool(_redis_client(url).ping())
        # A key of its own per check: concurrent checks must not read each other's value.
        probe = uuid.uuid4().hex
        key = f"endpoints:health_probe:{probe}"
        cache.set(key, probe, timeout=30)
        try:
            return cache.get(key) == probe
        finally:
            cache.delete(key)
    except Exception:  # noqa: BLE001 - any failure means "down"
        return False


def _timed(check) -> tuple[bool, float]:
    started = time.monotonic()
    ok = check()
    return ok, round((time.monotonic() - started) * 1000, 2)


def configured_backends() -> dict[str, str]:
    """What this process actually runs on (no URL, no credentials): the database vendor, the
    cache (Redis, or the embedded file cache) and the broker's kind."""
    broker_scheme = settings.CELERY_BROKER_URL.split("://", 1)[0]
    broker = {"sqla+sqlite": "sqlite (embedded)", "rediss": "redis", "pyamqp": "amqp"}.get(
        broker_scheme, broker_scheme
    )
    return {
        "database": connection.vendor,
        "cache": "redis" if settings.REDIS_URL else "file (embedded)",
        "broker": broker,
    }


def health_report() -> dict:
    """The configured components' state with timings: {"ok", "time", "components", "backends"}.

    Only what is configured is checked: Redis with REDIS_URL, else the file cache standing in for
    it (as `cache`; the seed body's `redis` is then null, not a claim that Redis answers).
    """
    cache_check = "redis" if settings.REDIS_URL else "cache"
    components = {
        "database": _timed(check_database),
        cache_check: _timed(check_redis),
    }
    return {
        "ok": all(ok for ok, _ in components.values()),
        "time": timezone.now().isoformat(),
        "components": components,
        "backends": configured_backends(),
    }


# --- OAuth2 applications ----------------------------------------------------------------------------


def oauth_application_list() -> QuerySet:
    """Every OAuth2 application with its owner and bound account (staff API)."""
    from oauth2_provider.models import get_application_model

    return (
        get_application_model()
        .objects.select_related("user", "account_binding__account")
        .order_by("-created", "-id")
    )


def oauth_application_ingest_account(*, application):
    """The account an application's tokens may send data to, or None.

    The binding counts only while the application's owner is still an Admin of that account:
    losing the role cuts the application off, like it would cut off the user.
    """
    from accounts.models import Account, Membership

    if application is None or application.user_id is None:
        return None
    return (
        Account.objects.filter(
            oauth_applications__application=application,
            memberships__user_id=application.user_id,
            memberships__role=Membership.Role.ADMIN,
        )
        .order_by()
        .first()
    )
