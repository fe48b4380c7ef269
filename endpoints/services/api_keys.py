"""Writes of API keys: create, update, regenerate (with a grace period), delete, touch."""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework import serializers

from accounts.selectors import membership_get
from endpoints.models import ApiKey, generate_api_key
from users.models import User

logger = logging.getLogger(__name__)

RATE_PATTERN = re.compile(r"^[1-9]\d{0,6}/(s|sec|second|m|min|minute|h|hour|d|day)$")
MAX_GRACE_PERIOD_SECONDS = 7 * 24 * 3600


def validate_rate_limit(value: str) -> str:
    """A DRF rate such as "100/minute" (or empty for the default); ValidationError otherwise."""
    value = (value or "").strip()
    if value and not RATE_PATTERN.match(value):
        raise serializers.ValidationError(
            'Use "<number>/<second|minute|hour|day>", for example "100/minute".'
        )
    return value


def _check_account(*, user: User, account_id: int | None) -> None:
    # Same answer for "no such account" and "not a member": existence is not revealed.
    if account_id is not None and membership_get(user=user, account_id=account_id) is None:
        raise serializers.ValidationError({"account": ["You are not a member of this account."]})


def _new_key_material() -> tuple[str, str, str]:
    for _ in range(5):
        raw, prefix, key_hash = generate_api_key()
        taken = ApiKey.objects.filter(Q(prefix=prefix) | Q(previous_prefix=prefix)).exists()
        if not taken:
            return raw, prefix, key_hash
    raise RuntimeError("Could not find a free API key prefix.")  # 40 random bits: never


@transaction.atomic
def api_key_create(
    *,
    user: User,
    name: str,
    account_id: int | None = None,
    scopes: list[str] | None = None,
    rate_limit: str = "",
    is_active: bool = True,
    expires_at: datetime | None = None,
) -> tuple[ApiKey, str]:
    """Creates a key for `user`; returns it with the raw key, which is never stored or shown again."""
    _check_account(user=user, account_id=account_id)
    raw, prefix, key_hash = _new_key_material()
    api_key = ApiKey(
        user=user,
        name=name,
        account_id=account_id,
        scopes=sorted(set(scopes)) if scopes else ApiKey.default_scopes(),
        rate_limit=validate_rate_limit(rate_limit),
        is_active=is_active,
        expires_at=expires_at,
        prefix=prefix,
        key_hash=key_hash,
    )
    api_key.full_clean()
    api_key.save()
    return api_key, raw


API_KEY_UPDATABLE = ("name", "account_id", "scopes", "rate_limit", "is_active", "expires_at")


@transaction.atomic
def api_key_update(*, api_key: ApiKey, data: dict[str, Any]) -> ApiKey:
    """Updates the given fields (a subset of API_KEY_UPDATABLE)."""
    if "account_id" in data:
        _check_account(user=api_key.user, account_id=data["account_id"])
    for field in API_KEY_UPDATABLE:
        if field in data:
            value = data[field]
            if field == "scopes":
                value = sorted(set(value))
            elif field == "rate_limit":
                value = validate_rate_limit(value)
            setattr(api_key, field, value)
    api_key.full_clean()
    api_key.save()
    return api_key


@transaction.atomic
def api_key_regenerate(*, api_key: ApiKey, grace_period_seconds: int = 0) -> tuple[ApiKey, str]:
    """New prefix and secret. The old key stops working at once, or after the grace period."""
    if not 0 <= grace_period_seconds <= MAX_GRACE_PERIOD_SECONDS:
        raise serializers.ValidationError(
            {"grace_period_seconds": [f"Must be between 0 and {MAX_GRACE_PERIOD_SECONDS}."]}
        )
    api_key = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    raw, prefix, key_hash = _new_key_material()
    if grace_period_seconds:
        api_key.previous_prefix = api_key.prefix
        api_key.previous_key_hash = api_key.key_hash
        api_key.previous_expires_at = timezone.now() + timedelta(seconds=grace_period_seconds)
    else:
        api_key.previous_prefix = ""
        api_key.previous_key_hash = ""
        api_key.previous_expires_at = None
    api_key.prefix = prefix
    api_key.key_hash = key_hash
    api_key.save()
    return api_key, raw


@transaction.atomic
def api_key_delete(*, api_key: ApiKey) -> None:
    api_key.delete()


def api_key_touch(*, api_key: ApiKey) -> bool:
    """Records use of the key at most once per API_KEY_LAST_USED_INTERVAL_SECONDS.

    A cache `add` (one round-trip, shared by every process) decides who may write; the UPDATE is
    conditional as well, so a lost cache entry still writes at most once per interval.
    """
    interval = settings.API_KEY_LAST_USED_INTERVAL_SECONDS
    now = timezone.now()
    # The row was just loaded to authenticate: if it was touched recently, nothing to do, and
    # the cache round-trip is skipped on most requests.
    if api_key.last_used_at is not None and api_key.last_used_at > now - timedelta(
        seconds=interval
    ):
        return False
    try:
        if not cache.add(f"endpoints:api_key_touch:{api_key.pk}", 1, timeout=interval):
            return False
    except Exception:  # noqa: BLE001 - a cache outage must not fail authentication
        logger.warning("Cache unavailable for the API key last-used guard.")
    return bool(
        ApiKey.objects.filter(pk=api_key.pk)
        .filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - timedelta(seconds=interval))
        )
        .update(last_used_at=now)
    )
