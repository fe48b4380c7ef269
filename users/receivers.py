"""Device tracking hooks on the login signals (connected in UsersConfig.ready)."""

from django.dispatch import receiver

from users import services
from users.signals import tokens_issued, tokens_refreshed


@receiver(tokens_issued, dispatch_uid="users.record_login_device")
def record_login_device(sender, *, user, request=None, family, refresh_expires_at, **kwargs):
    # Runs inside token_pair_for_user's transaction: no login without its device row.
    services.device_record_login(
        user=user, request=request, family=family, expires_at=refresh_expires_at
    )


@receiver(tokens_refreshed, dispatch_uid="users.touch_login_device")
def touch_login_device(sender, *, user, family, **kwargs):
    services.device_touch(family=family)
