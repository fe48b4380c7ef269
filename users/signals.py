"""Signals other apps subscribe to, so `users` never imports the apps to its right."""

from django.dispatch import Signal

# Sent once a new user has been registered (API or HTML signup): kwargs `user`, `request`.
user_registered = Signal()
