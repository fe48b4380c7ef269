"""django-allauth glue: HTML signup behaves like API registration, and allauth's email
confirmation marks the user's address as confirmed.

The adapter is named by ACCOUNT_ADAPTER; the receivers are connected when this module is
imported (by UsersConfig.ready, and by allauth whenever it loads the adapter).
"""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.signals import email_confirmed
from django.db import transaction
from django.dispatch import receiver

from users.signals import user_registered


class AccountAdapter(DefaultAccountAdapter):
    """allauth's adapter with the API's rules for addresses."""

    def clean_email(self, email: str) -> str:
        # Stored like the API stores it, so the case-insensitive unique constraint applies alike.
        from django.contrib.auth import get_user_model

        return get_user_model().objects.normalize_email(super().clean_email(email))

    def save_user(self, request, user, form, commit=True):
        """An HTML signup is a registration: the user and their personal account (seed 003) are
        saved in one transaction, as API registration does, so neither exists without the other."""
        if not commit:
            return super().save_user(request, user, form, commit=False)
        with transaction.atomic():
            user = super().save_user(request, user, form, commit=True)
            user_registered.send(sender=type(user), user=user, request=request)
        return user


@receiver(email_confirmed, dispatch_uid="users.allauth.email_confirmed")
def mark_email_confirmed(sender, request, email_address, **kwargs):
    """allauth confirmed the user's address: the profile's `email_confirmed` says so too."""
    user = email_address.user
    if user.email.lower() == email_address.email.lower() and not user.email_confirmed:
        type(user).objects.filter(pk=user.pk).update(email_confirmed=True)
        user.email_confirmed = True
