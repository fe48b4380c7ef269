"""Signals for apps to the right of accounts (they subscribe; accounts never imports them)."""

from django.dispatch import Signal

# Sent after commit when an account's app_secret_token changed: kwargs `account`, `old_token`.
# Receivers that cache token → account lookups must drop `old_token` at once.
account_secret_rotated = Signal()
