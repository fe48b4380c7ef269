"""Housekeeping: expired revocations are purged, on an hourly beat."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from users.models import RevokedToken
from users.tasks import purge_expired_revocations

pytestmark = pytest.mark.django_db


def test_it_purges_only_expired_revocations(user):
    now = timezone.now()
    RevokedToken.objects.create(
        kind="access",
        identifier="old",
        user=user,
        reason="logout",
        expires_at=now - timedelta(seconds=1),
    )
    RevokedToken.objects.create(
        kind="family",
        identifier="live",
        user=user,
        reason="logout",
        expires_at=now + timedelta(days=1),
    )
    assert purge_expired_revocations() == 1
    assert list(RevokedToken.objects.values_list("identifier", flat=True)) == ["live"]
    assert purge_expired_revocations() == 0


def test_it_is_scheduled_hourly_by_name():
    entry = settings.CELERY_BEAT_SCHEDULE["users-purge-expired-revocations"]
    assert entry == {"task": "users.purge_expired_revocations", "schedule": 3600.0}
    assert purge_expired_revocations.name == "users.purge_expired_revocations"
