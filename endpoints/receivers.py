"""Keeps the API-key snapshots of the ingest hot path in step with the rows they summarise
(endpoints/api_key_cache.py): however a key, its owner or the owner's membership changes (API,
admin, cascade), its cached entries are marked on commit. Connected in EndpointsConfig.ready."""

from django.conf import settings
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from endpoints.api_key_cache import api_key_changed, api_keys_of_owner_changed, stored_hashes


@receiver(pre_save, sender="endpoints.ApiKey", dispatch_uid="endpoints.api_key_cache_pre_save")
def remember_stored_hashes(sender, instance, **kwargs):
    # A regeneration replaces the hashes: the entries of the values being replaced go too.
    instance._hashes_before_save = stored_hashes(instance)


@receiver(post_save, sender="endpoints.ApiKey", dispatch_uid="endpoints.api_key_cache_on_save")
def forget_saved_api_key(sender, instance, created, **kwargs):
    if not created:
        api_key_changed(hashes=getattr(instance, "_hashes_before_save", stored_hashes(instance)))


@receiver(post_delete, sender="endpoints.ApiKey", dispatch_uid="endpoints.api_key_cache_on_delete")
def forget_deleted_api_key(sender, instance, **kwargs):
    api_key_changed(hashes=[(instance.key_hash, instance.previous_key_hash)])


@receiver(
    post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="endpoints.api_key_cache_on_user"
)
def forget_api_keys_of_saved_user(sender, instance, created, update_fields=None, **kwargs):
    if created or (update_fields is not None and "is_active" not in update_fields):
        return
    api_keys_of_owner_changed(user_id=instance.pk, restrictive=not instance.is_active)


@receiver(post_save, sender="accounts.Membership", dispatch_uid="endpoints.api_key_cache_member")
@receiver(
    post_delete, sender="accounts.Membership", dispatch_uid="endpoints.api_key_cache_member_gone"
)
def forget_api_keys_of_member(sender, instance, signal, **kwargs):
    api_keys_of_owner_changed(
        user_id=instance.user_id,
        account_id=instance.account_id,
        restrictive=signal is post_delete,
    )
