"""Writes of the identity app, one module per concern; this package re-exports their public
services so `from users import services` and `from users.services import X` keep working.
"""

from users.exceptions import LoginLockedOut
from users.services.credits import credits_grant, credits_spend
from users.services.devices import device_record_login, device_revoke, device_touch
from users.services.email_confirmation import (
    email_confirm,
    email_confirmation_resend,
    email_confirmation_send,
)
from users.services.login import token_pair_for_user, user_authenticate
from users.services.passwords import (
    password_change,
    password_reset_confirm,
    password_reset_deliver,
    password_reset_request,
)
from users.services.payments import payments_checkout_session_create, stripe_event_process
from users.services.pre_registration import pre_registration_create
from users.services.profile import user_profile_update
from users.services.registration import user_register
from users.services.tokens import (
    token_family_revoke,
    token_refresh,
    token_revoke,
    user_logout,
    user_tokens_revoke_all,
)

__all__ = [
    "LoginLockedOut",
    "credits_grant",
    "credits_spend",
    "device_record_login",
    "device_revoke",
    "device_touch",
    "email_confirm",
    "email_confirmation_resend",
    "email_confirmation_send",
    "password_change",
    "password_reset_confirm",
    "password_reset_deliver",
    "password_reset_request",
    "payments_checkout_session_create",
    "pre_registration_create",
    "stripe_event_process",
    "token_family_revoke",
    "token_pair_for_user",
    "token_refresh",
    "token_revoke",
    "user_authenticate",
    "user_logout",
    "user_profile_update",
    "user_register",
    "user_tokens_revoke_all",
]
