"""django-allauth's HTML account pages at /accounts/ (seed 001): app, middleware, backend, and
the login pages people and the browsable API return from.

Imported by base.py after oauth2.py.
"""

from backend.env import env
from backend.settings.base import AUTHENTICATION_BACKENDS, INSTALLED_APPS, MIDDLEWARE
from backend.settings.oauth2 import HTML_PATH_PREFIXES

INSTALLED_APPS += ["allauth", "allauth.account"]
# allauth's middleware needs the session, the user and the messages set up before it.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "allauth.account.middleware.AccountMiddleware",
)
AUTHENTICATION_BACKENDS = [
    *AUTHENTICATION_BACKENDS,
    "allauth.account.auth_backends.AuthenticationBackend",
]
# Login pages: allauth's for people (the OAuth2 authorize page sends them there), DRF's for the
# browsable API. Both return to LOGIN_REDIRECT_URL unless given ?next=.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = env.str("LOGIN_REDIRECT_URL", default="/api/v1/users/me/")
ACCOUNT_LOGOUT_REDIRECT_URL = "/accounts/login/"
ACCOUNT_ADAPTER = "users.allauth.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email", "username"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "optional"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_USER_MODEL_EMAIL_FIELD = "email"
ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS = env.int(
    "ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS", default=3
)
# Same answer whether or not an address is registered (password reset, signup).
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
HTML_PATH_PREFIXES = (
    *HTML_PATH_PREFIXES,
    "/api/v1/auth/session-logout/",
)
