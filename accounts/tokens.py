"""Single-use, expiring tokens for invitation links (set-password for an invited user)."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    """Django's password-reset token scheme with its own salt; expiry is PASSWORD_RESET_TIMEOUT.

    The hash covers the password hash and `is_active`, so the token stops working as soon as the
    invitation is accepted (single use), and a reset token can never be replayed as an invitation.
    """

    key_salt = "accounts.tokens.InvitationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{super()._make_hash_value(user, timestamp)}{user.is_active}"


invitation_token_generator = InvitationTokenGenerator()
