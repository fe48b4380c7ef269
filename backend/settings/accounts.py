"""Invitations in `accounts`: the link in invitation emails and the per-user invite budget.

Imported by base.py after the framework settings it reads.
"""

from backend.env import env
from backend.settings.base import FRONTEND_URL, REST_FRAMEWORK

# Link in invitation emails; {uid} and {token} are filled in. A frontend can point it at its own
# page that POSTs them with the new password to /api/v1/invitations/accept/.
INVITATION_URL = env.str(
    "INVITATION_URL",
    default=FRONTEND_URL.rstrip("/") + "/api/v1/invitations/accept/?uid={uid}&token={token}",
)
# Invitation links expire after PASSWORD_RESET_TIMEOUT seconds (Django's default: 3 days).
# Invitations and adding members by email send mail and tell whether an address is registered:
# a per-user budget keeps both from being used for spam or address probing.
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["invite"] = env.str(
    "INVITE_THROTTLE_RATE", default="60/hour"
)
