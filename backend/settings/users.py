"""Account lifecycle in `users`: client addresses behind proxies (lockout, throttles), email
confirmation and password reset links, avatars, devices.

Imported by base.py after the framework settings it reads.
"""

from backend.env import env
from backend.settings.base import FRONTEND_URL, REST_FRAMEWORK

# Reverse proxies in front of the app that append the client to X-Forwarded-For (nginx: 1).
# 0 = trust no proxy: the login lockout counts REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# DRF throttles read the client address the same way (0 = REMOTE_ADDR only, never spoofable).
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
# Account lifecycle (SPEC section 8). Links in emails: {token} is filled in; a frontend can point
# them at its own page that POSTs the token to the API.
EMAIL_CONFIRMATION_TIMEOUT = env.int("EMAIL_CONFIRMATION_TIMEOUT", default=3 * 86400)
EMAIL_CONFIRMATION_URL = env.str(
    "EMAIL_CONFIRMATION_URL",
    default=FRONTEND_URL.rstrip("/") + "/api/v1/auth/email/confirm/?token={token}",
)
# Reset links expire after PASSWORD_RESET_TIMEOUT seconds (Django's setting, default 3 days).
PASSWORD_RESET_URL = env.str(
    "PASSWORD_RESET_URL",
    default=FRONTEND_URL.rstrip("/") + "/api/v1/auth/password/reset/confirm/?token={token}",
)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["email_resend"] = env.str(
    "EMAIL_RESEND_THROTTLE_RATE", default="5/hour"
)
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["password_reset"] = env.str(
    "PASSWORD_RESET_THROTTLE_RATE", default="10/hour"
)
AVATAR_MAX_BYTES = env.int("AVATAR_MAX_BYTES", default=2 * 1024 * 1024)
# A device's last_seen is written at most once per this many seconds per login on refresh.
DEVICE_LAST_SEEN_INTERVAL_SECONDS = env.int("DEVICE_LAST_SEEN_INTERVAL_SECONDS", default=60)
# Reset mails are made and sent by a worker, so a known address answers as fast as an unknown one.
PASSWORD_RESET_MAIL_ASYNC = env.bool("PASSWORD_RESET_MAIL_ASYNC", default=True)
