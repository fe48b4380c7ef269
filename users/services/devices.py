"""Devices: one row per login (user agent, IP, last seen), revoking one revokes its tokens."""

from datetime import datetime
from typing import Any

import user_agents
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.common.types import AnyRequest
from users import lockout
from users.models import Device, DeviceLogin, RevokedToken, User
from users.services.tokens import token_families_revoke

USER_AGENT_MAX_LENGTH = 512


def _describe_user_agent(user_agent: str) -> dict[str, Any]:
    parsed = user_agents.parse(user_agent)
    if parsed.is_bot:
        kind = "bot"
    elif parsed.is_tablet:
        kind = "tablet"
    elif parsed.is_mobile:
        kind = "mobile"
    elif parsed.is_pc:
        kind = "pc"
    else:
        kind = "other"

    def label(part: Any) -> str:
        return f"{part.family} {part.version_string}".strip()[:100]

    return {
        "browser": label(parsed.browser),
        "os": label(parsed.os),
        "device": (parsed.device.family or "")[:100],
        "device_type": kind,
    }


@transaction.atomic
def device_record_login(
    *, user: User, request: AnyRequest, family: str, expires_at: datetime
) -> Device:
    """Records the device of a new login (same user agent + IP → same device) and ties the
    login's token family to it, so revoking the device revokes that login.
    """
    meta = getattr(request, "META", None) or {}
    user_agent = (meta.get("HTTP_USER_AGENT") or "")[:USER_AGENT_MAX_LENGTH]
    ip = lockout.valid_ip(lockout.client_ip(request)) if request is not None else None
    now = timezone.now()
    active = Device.objects.filter(user=user, user_agent=user_agent, ip=ip, revoked_at__isnull=True)
    device = active.first()
    if device is None:
        try:
            with transaction.atomic():
                device = Device.objects.create(
                    user=user,
                    user_agent=user_agent,
                    ip=ip,
                    first_seen=now,
                    last_seen=now,
                    **_describe_user_agent(user_agent),
                )
        except IntegrityError:  # a concurrent login from the same device created it
            device = active.get()
    if device.last_seen != now:
        active.filter(pk=device.pk).update(last_seen=now)
        device.last_seen = now
    DeviceLogin.objects.create(device=device, family=family, created_at=now, expires_at=expires_at)
    return device


def device_touch(*, family: str) -> None:
    """Keeps the device of a refreshed login fresh: at most one write per interval per login."""
    interval = settings.DEVICE_LAST_SEEN_INTERVAL_SECONDS
    try:
        due = cache.add(f"device:seen:{family}", 1, interval)
    except Exception:  # the cache only saves writes: without it, write
        due = True
    if due:
        Device.objects.filter(logins__family=family, revoked_at__isnull=True).update(
            last_seen=timezone.now()
        )


@transaction.atomic
def device_revoke(*, device: Device) -> None:
    """Revokes a device: every token of every login made from it gets 401 at once."""
    now = timezone.now()
    if not Device.objects.filter(pk=device.pk, revoked_at__isnull=True).update(revoked_at=now):
        return
    device.revoked_at = now
    families = device.logins.filter(expires_at__gt=now).values_list("family", flat=True)
    token_families_revoke(
        families=list(families), user_id=device.user_id, reason=RevokedToken.Reason.DEVICE_REVOKED
    )
