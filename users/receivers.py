"""Device tracking hooks on the login signals, and the cached "user is active" answer kept
in step with the user row (connected in UsersConfig.ready)."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from users import services
from users.active_cache import user_active_changed
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


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="users.active_cache_on_save")
def forget_cached_active_on_save(sender, instance, created, update_fields=None, **kwargs):
    # Saves that name their fields without is_active (last_login at each login) change nothing.
    if created or (update_fields is not None and "is_active" not in update_fields):
        return
    user_active_changed(instance.pk, is_active=instance.is_active)


@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="users.active_cache_on_delete")
def forget_cached_active_on_delete(sender, instance, **kwargs):
    user_active_changed(instance.pk, is_active=False)
