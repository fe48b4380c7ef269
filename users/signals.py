"""Signals other apps subscribe to, so `users` never imports the apps to its right."""

from django.dispatch import Signal

# Sent once a new user has been registered (API or HTML signup): kwargs `user`, `request`.
user_registered = Signal()

# Sent when a login starts a new token family: kwargs `user`, `request` (may be None), `family`
# (the `fam` claim shared by every token of that login), `refresh_expires_at`. Device tracking
# hooks here and revokes a device with `users.services.token_family_revoke(family=...)`.
tokens_issued = Signal()

# Sent after a refresh token of a login was rotated: kwargs `user`, `family` (device "last seen").
tokens_refreshed = Signal()
