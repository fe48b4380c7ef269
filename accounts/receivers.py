"""Signal receivers: accounts reacts to users' events without users importing accounts."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from users.signals import user_registered


@receiver(user_registered, dispatch_uid="accounts.create_personal_account")
def create_personal_account(sender, user, **kwargs):
    """Every registered user gets a personal account with the user as Admin (seed 003).

    Runs inside the registration's transaction: if this fails, the registration rolls back too.
    """
    # Imported here: this module loads in AppConfig.ready(), before DRF's settings may import
    # the authentication classes that (indirectly) import backend.common.exceptions.
    from accounts.services import account_create_personal

    if not user.memberships.exists():
        account_create_personal(user=user)


@receiver(post_delete, sender="accounts.Account", dispatch_uid="accounts.forget_app_token")
def forget_app_token(sender, instance, **kwargs):
    """However an account is deleted (API, admin, cascade), its CL-X-TOKEN stops working at once."""
    from accounts.app_tokens import app_token_forget

    token = instance.app_secret_token
    transaction.on_commit(lambda: app_token_forget(token))


@receiver(post_save, sender="accounts.Membership", dispatch_uid="accounts.member_cache_on_save")
@receiver(post_delete, sender="accounts.Membership", dispatch_uid="accounts.member_cache_on_delete")
def forget_cached_membership(sender, instance, signal, **kwargs):
    """However a membership changes (API, admin, cascade), the ingest check follows at once."""
    from accounts.member_cache import membership_changed

    membership_changed(
        account_id=instance.account_id, user_id=instance.user_id, removed=signal is post_delete
    )
