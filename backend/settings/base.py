"""Settings for every environment, read from the environment with an embedded default.

Nothing set → SQLite file under var/, a file cache and a filesystem Celery broker, so one
command runs web + worker + beat. `DATABASE_URL` / `REDIS_URL` switch to PostgreSQL and Redis.
"""

import sys
from datetime import timedelta
from pathlib import Path

from backend.env import BASE_DIR, VAR_DIR, env, env_secret

VAR_DIR.mkdir(exist_ok=True)

API_VERSION = "1.0.0"
API_NAME = "Backend API"

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        sys.exit("SECRET_KEY must be set when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE).")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-do-not-use-in-production"
ENVIRONMENT = env.str("ENVIRONMENT", default="development" if DEBUG else "production")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django_prometheus",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "rest_framework",
    "django_filters",
    "corsheaders",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "backend.common",
    "users",
    "accounts",
    "endpoints",
    "destinations",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "backend.common.middleware.RequestIdMiddleware",
    "backend.common.middleware.JsonErrorMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "backend.common.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "backend.urls"
WSGI_APPLICATION = "backend.wsgi.application"
ASGI_APPLICATION = "backend.asgi.application"
SITE_ID = 1

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env.str("DATABASE_URL", default="")
# Web, worker and beat share a SQLite file: wait for locks instead of failing at once.
SQLITE_OPTIONS = {
    "timeout": 30,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
if DATABASE_URL:
    DATABASES = {"default": env.db_url("DATABASE_URL")}
    DATABASES["default"].setdefault("OPTIONS", {})
    if DATABASES["default"]["ENGINE"].endswith("postgresql"):
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", 5)
    elif DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        DATABASES["default"]["OPTIONS"].update(SQLITE_OPTIONS)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "db.sqlite3",
            "OPTIONS": SQLITE_OPTIONS,
            # A file (not :memory:) so a worker process started by a test sees the test data.
            "TEST": {"NAME": str(VAR_DIR / env.str("SQLITE_TEST_NAME", default="test.sqlite3"))},
        }
    }
if env.str("TEST_DATABASE_NAME", default=""):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env.str("TEST_DATABASE_NAME")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache -----------------------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=1.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="api"),
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.DefaultClient",
                "SOCKET_CONNECT_TIMEOUT": REDIS_SOCKET_TIMEOUT,
                "SOCKET_TIMEOUT": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    # A file cache is shared by the web, worker and beat processes of one machine.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / env.str("FILE_CACHE_DIR", default="cache")),
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="api"),
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "users.User"
AUTHENTICATION_BACKENDS = ["users.backends.EmailOrUsernameBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_LOCKOUT_ATTEMPTS = env.int("LOGIN_LOCKOUT_ATTEMPTS", default=5)
LOGIN_LOCKOUT_IP_ATTEMPTS = env.int("LOGIN_LOCKOUT_IP_ATTEMPTS", default=20)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=60)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=7)),
    "ROTATE_REFRESH_TOKENS": True,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_secret("JWT_SIGNING_KEY") or SECRET_KEY,
    "AUTH_HEADER_TYPES": ("Bearer", "Token"),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": True,
}

# --- REST framework, schema ---------------------------------------------------------------------
MAX_PAGE_SIZE = env.int("MAX_PAGE_SIZE", default=100)
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.JWTAuthentication",
        "endpoints.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "backend.common.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("PAGE_SIZE", default=20),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "backend.common.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("ANON_THROTTLE_RATE", default="100/minute"),
        "user": env.str("USER_THROTTLE_RATE", default="2000/minute"),
        "login": env.str("LOGIN_THROTTLE_RATE", default="30/minute"),
        "anon_tasks": env.str("ANON_TASKS_THROTTLE_RATE", default="10/minute"),
        "ingest": env.str("INGEST_THROTTLE_RATE", default="5/second"),
        "api_key": env.str("API_KEY_THROTTLE_RATE", default="1000/minute"),
        "pre_register": env.str("PRE_REGISTER_THROTTLE_RATE", default="10/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": API_NAME,
    "DESCRIPTION": (
        "Identity (JWT), API keys, scheduled tasks, accounts, webhook destinations and "
        "reliable delivery. Routes tagged `compat` are the seed documents' compatibility paths."
    ),
    "VERSION": API_VERSION,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    # Several models have a `status`: give each choice set its own component name.
    "ENUM_NAME_OVERRIDES": {
        "ScheduledTaskStatusEnum": "endpoints.models.ScheduledTask.Status",
        "DeliveryLogStatusEnum": "destinations.models.DeliveryLog.Status",
    },
}

# --- Celery ---------------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / env.str("BROKER_DIR_NAME", default="broker")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("out", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "out"),
        "data_folder_out": str(BROKER_DIR / "out"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Broadcast/control messages (remote control, purge): under var/, not the cwd.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Redis re-delivers unacknowledged messages after this; tasks are idempotent anyway.
        "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
    }
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Publishing must fail fast when the broker is down: the sweepers re-enqueue what was not sent.
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=2.0)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default="") or None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=300)
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=270)
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Periodic tasks by name, so no app imports another app's tasks to schedule them.
CELERY_BEAT_SCHEDULE: dict = {}

# --- Email ----------------------------------------------------------------------------------------
if env.str("EMAIL_URL", default=""):
    _email = env.email_url("EMAIL_URL")
    EMAIL_BACKEND = _email["EMAIL_BACKEND"]
    EMAIL_HOST = _email.get("EMAIL_HOST", "localhost")
    EMAIL_PORT = _email.get("EMAIL_PORT", 25)
    EMAIL_HOST_USER = _email.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = _email.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = _email.get("EMAIL_USE_TLS", False)
    EMAIL_USE_SSL = _email.get("EMAIL_USE_SSL", False)
else:
    EMAIL_BACKEND = env.str(
        "EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend"
    )
    EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
    EMAIL_PORT = env.int("EMAIL_PORT", default=25)
    EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
    EMAIL_HOST_PASSWORD = env_secret("EMAIL_HOST_PASSWORD")
    EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="no-reply@localhost")
FRONTEND_URL = env.str("FRONTEND_URL", default="http://127.0.0.1:8000")

# --- Product settings -------------------------------------------------------------------------------
INGEST_MAX_BODY_BYTES = env.int("INGEST_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
DESTINATION_ALLOWED_HOSTS = env.list("DESTINATION_ALLOWED_HOSTS", default=[])
STRIPE_SECRET_KEY = env_secret("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_secret("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
SENTRY_DSN = env.str("SENTRY_DSN", default="")

# --- Security ---------------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT_EXEMPT = [r"^health/$", r"^api/v1/health/$"]

# Paths that answer HTML (admin and browser pages); every other path answers JSON errors.
HTML_PATH_PREFIXES = (
    "/admin/",
    "/static/",
    "/media/",
    "/api/docs/",
    "/api/redoc/",
    "/api/v1/auth/login/",
    "/api/v1/oauth2/authorize/",
)

# --- i18n, static, media ----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
STATIC_ROOT = env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
Path(STATIC_ROOT).mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {
        "BACKEND": env.str(
            "DEFAULT_FILE_STORAGE", default="django.core.files.storage.FileSystemStorage"
        )
    },
    # Hashed, compressed static files served by WhiteNoise behind gunicorn (nginx in front in production).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = env.str("MEDIA_ROOT", default=str(VAR_DIR / "media"))

# --- Logging -----------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "backend.common.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

# =====================================================================================================
# Per-app settings. Each app keeps its own block; periodic tasks are registered by task name.
# =====================================================================================================

# --- users -------------------------------------------------------------------------------------------
# Reverse proxies in front of the app that append the client to X-Forwarded-For (nginx: 1).
# 0 = trust no proxy: the login lockout counts REMOTE_ADDR.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
# The cache token denylist is rebuilt from PostgreSQL at least this often (and at once after a
# Redis restart or flush), which also bounds what an evicting Redis could make it forget.
JWT_DENYLIST_RELOAD_SECONDS = env.int("JWT_DENYLIST_RELOAD_SECONDS", default=3600)
# DRF throttles read the client address the same way (0 = REMOTE_ADDR only, never spoofable).
REST_FRAMEWORK["NUM_PROXIES"] = TRUSTED_PROXY_COUNT
CELERY_BEAT_SCHEDULE["users-purge-expired-revocations"] = {
    "task": "users.purge_expired_revocations",
    "schedule": 3600.0,
}
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
# Credit packs sold through Stripe Checkout: "name=price_id:credits,..." (credits per unit).
STRIPE_CREDIT_PACKS = {
    name.strip(): {"price_id": price.strip(), "credits": int(credits)}
    for name, _, rest in (
        item.partition("=") for item in env.list("STRIPE_CREDIT_PACKS", default=[]) if item
    )
    for price, _, credits in [rest.rpartition(":")]
}
# Prices that start a subscription (Checkout in subscription mode, no credits).
STRIPE_SUBSCRIPTION_PRICE_IDS = env.list("STRIPE_SUBSCRIPTION_PRICE_IDS", default=[])
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10.0)
STRIPE_MAX_NETWORK_RETRIES = env.int("STRIPE_MAX_NETWORK_RETRIES", default=2)
# Reset mails are made and sent by a worker, so a known address answers as fast as an unknown one.
PASSWORD_RESET_MAIL_ASYNC = env.bool("PASSWORD_RESET_MAIL_ASYNC", default=True)
# (end users)

# --- accounts ----------------------------------------------------------------------------------------
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
# (end accounts)

# --- endpoints ---------------------------------------------------------------------------------------
from celery.schedules import crontab  # noqa: E402

# API keys carry scopes: read for safe methods, write for the others (or the view's own scope).
REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"] = [
    "rest_framework.permissions.IsAuthenticated",
    "endpoints.permissions.ApiKeyScopePermission",
]
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    *REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"],
    "endpoints.throttling.ApiKeyRateThrottle",
]
# last_used_at is written at most once per this many seconds per key.
API_KEY_LAST_USED_INTERVAL_SECONDS = env.int("API_KEY_LAST_USED_INTERVAL_SECONDS", default=60)
TASK_DISPATCH_INTERVAL_SECONDS = env.float("TASK_DISPATCH_INTERVAL_SECONDS", default=1.0)
# A due task still pending this long after it was sent is sent again (claiming makes it safe).
TASK_REDISPATCH_AFTER_SECONDS = env.int("TASK_REDISPATCH_AFTER_SECONDS", default=60)
TASK_REAPER_INTERVAL_SECONDS = env.int("TASK_REAPER_INTERVAL_SECONDS", default=30)
TASK_STUCK_MARGIN_SECONDS = env.int("TASK_STUCK_MARGIN_SECONDS", default=60)
TASK_RETENTION_DAYS = env.int("TASK_RETENTION_DAYS", default=30)
TASK_PARAMETERS_MAX_BYTES = env.int("TASK_PARAMETERS_MAX_BYTES", default=64 * 1024)
TASK_LONG_RUNNING_MAX_SECONDS = env.int("TASK_LONG_RUNNING_MAX_SECONDS", default=60)
CELERY_BEAT_SCHEDULE["endpoints-dispatch-due-tasks"] = {
    "task": "endpoints.dispatch_due_tasks",
    "schedule": TASK_DISPATCH_INTERVAL_SECONDS,
    # A tick that waited behind busy workers is useless: the next one does the same job.
    "options": {"expires": max(5.0, 5 * TASK_DISPATCH_INTERVAL_SECONDS)},
}
CELERY_BEAT_SCHEDULE["endpoints-reap-stuck-tasks"] = {
    "task": "endpoints.reap_stuck_tasks",
    "schedule": float(TASK_REAPER_INTERVAL_SECONDS),
    "options": {"expires": float(TASK_REAPER_INTERVAL_SECONDS)},
}
CELERY_BEAT_SCHEDULE["endpoints-purge-finished-tasks"] = {
    "task": "endpoints.purge_finished_tasks",
    "schedule": crontab(hour=3, minute=17),
}
# (end endpoints)

# --- destinations ------------------------------------------------------------------------------------
# Delay before each delivery attempt (seconds); len() is the maximum number of attempts (Svix-like).
DELIVERY_RETRY_SCHEDULE = [
    int(float(step))
    for step in env.str(
        "DELIVERY_RETRY_SCHEDULE", default="0,5,300,1800,7200,18000,36000,36000"
    ).split(",")
    if step.strip()
] or [0]
# Share of each retry step that is randomized (1.0 = full jitter: uniform in [0, step]).
DELIVERY_RETRY_JITTER = env.float("DELIVERY_RETRY_JITTER", default=1.0)
# A destination's Retry-After is honoured up to this many seconds.
DELIVERY_RETRY_AFTER_MAX_SECONDS = env.int("DELIVERY_RETRY_AFTER_MAX_SECONDS", default=3600)
# Retries due within this many seconds are published with a countdown; later ones are DB-driven
# (next_attempt_at + sweeper): long broker ETAs are never used.
DELIVERY_COUNTDOWN_MAX_SECONDS = env.int("DELIVERY_COUNTDOWN_MAX_SECONDS", default=60)
DELIVERY_CONNECT_TIMEOUT = env.float("DELIVERY_CONNECT_TIMEOUT", default=5.0)
DELIVERY_READ_TIMEOUT = env.float("DELIVERY_READ_TIMEOUT", default=15.0)
# A claimed log is the worker's for this long; must exceed one attempt (timeouts + bookkeeping).
DELIVERY_LEASE_SECONDS = env.int("DELIVERY_LEASE_SECONDS", default=120)
# The sweeper re-publishes a due pending log only if it was not published this recently.
DELIVERY_REQUEUE_AFTER_SECONDS = env.int("DELIVERY_REQUEUE_AFTER_SECONDS", default=60)
DELIVERY_SWEEP_INTERVAL_SECONDS = env.float("DELIVERY_SWEEP_INTERVAL_SECONDS", default=5.0)
DELIVERY_SWEEP_BATCH = env.int("DELIVERY_SWEEP_BATCH", default=500)
# Auto-disable: every attempt failing for this long, or this many logs failed in a row (0 = off).
DESTINATION_DISABLE_AFTER_SECONDS = env.int("DESTINATION_DISABLE_AFTER_SECONDS", default=5 * 86400)
DESTINATION_DISABLE_AFTER_FAILED_LOGS = env.int("DESTINATION_DISABLE_AFTER_FAILED_LOGS", default=0)
DESTINATION_MAX_HEADERS = env.int("DESTINATION_MAX_HEADERS", default=20)
LOGS_CACHE_SECONDS = env.int("LOGS_CACHE_SECONDS", default=300)
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's virtual transports sleep polling_interval (default 1 s) whenever the prefetch window
    # is full, which caps a worker at ~concurrency deliveries per second on the embedded broker.
    CELERY_BROKER_TRANSPORT_OPTIONS.setdefault(
        "polling_interval", env.float("CELERY_BROKER_POLLING_INTERVAL", default=0.05)
    )
CELERY_BEAT_SCHEDULE["destinations-sweep-pending-deliveries"] = {
    "task": "destinations.sweep_pending_deliveries",
    "schedule": DELIVERY_SWEEP_INTERVAL_SECONDS,
}
# (end destinations)

# --- oauth2 / allauth --------------------------------------------------------------------------------
# OAuth2 provider (django-oauth-toolkit) at /api/v1/oauth2/ and allauth's HTML account pages at
# /accounts/ (seed 001). Both use the same User model and the same login backends.
INSTALLED_APPS += ["oauth2_provider", "allauth", "allauth.account"]
# allauth's middleware needs the session, the user and the messages set up before it.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.messages.middleware.MessageMiddleware") + 1,
    "allauth.account.middleware.AccountMiddleware",
)
AUTHENTICATION_BACKENDS = [
    *AUTHENTICATION_BACKENDS,
    "allauth.account.auth_backends.AuthenticationBackend",
]
# The OAuth2 class comes first but only claims opaque (dot-free) bearer tokens that it finds, so
# JWTs and API keys are never looked up by it, and any bearer it does not know falls through to
# the JWT class (which answers the usual 401). The JWT class refuses every bearer it cannot decode,
# so behind it an OAuth2 token would never be reached. Session auth (browsable API) comes last.
REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
    "endpoints.authentication.OAuth2Authentication",
    *REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],
    "rest_framework.authentication.SessionAuthentication",
]
OAUTH2_SCOPES = {
    "read": "Read your data (safe methods)",
    "write": "Change your data (unsafe methods)",
    "ingest": "Send data to the ingest endpoint of the application's account",
}
OAUTH2_PROVIDER = {
    "SCOPES": OAUTH2_SCOPES,
    # Like a new API key: read and write unless the client asks for a narrower or other set.
    "DEFAULT_SCOPES": ["read", "write"],
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH2_ACCESS_TOKEN_SECONDS", default=3600),
    "REFRESH_TOKEN_EXPIRE_SECONDS": env.int("OAUTH2_REFRESH_TOKEN_SECONDS", default=7 * 86400),
    "AUTHORIZATION_CODE_EXPIRE_SECONDS": env.int("OAUTH2_AUTHORIZATION_CODE_SECONDS", default=60),
    "ROTATE_REFRESH_TOKEN": True,
    # A replayed refresh token revokes its whole family (as for our JWTs).
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # https only in production; http is allowed for loopback redirect URIs (native apps, RFC 8252).
    "ALLOWED_REDIRECT_URI_SCHEMES": env.list(
        "OAUTH2_REDIRECT_URI_SCHEMES", default=["https", "http"] if DEBUG else ["https"]
    ),
    "ALLOW_LOCALHOST_LOOPBACK": True,
    # RFC 9700 (OAuth 2.0 Security BCP): no implicit or password grant, S256 PKCE only, tokens
    # only in the Authorization header, `iss` in authorization responses, tokens hashed at rest.
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
}
# Expired tokens and grants are refused on use anyway; this keeps the tables from only growing.
CELERY_BEAT_SCHEDULE["endpoints-clear-expired-oauth2-tokens"] = {
    "task": "endpoints.clear_expired_oauth2_tokens",
    "schedule": 3600.0,
}
SPECTACULAR_SETTINGS.update(
    {
        "OAUTH2_FLOWS": ["authorizationCode", "clientCredentials"],
        "OAUTH2_AUTHORIZATION_URL": "/api/v1/oauth2/authorize/",
        "OAUTH2_TOKEN_URL": "/api/v1/oauth2/token/",
        "OAUTH2_REFRESH_URL": "/api/v1/oauth2/token/",
        "OAUTH2_SCOPES": OAUTH2_SCOPES,
    }
)
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
    "/api/v1/oauth2/applications/",
    "/api/v1/oauth2/authorized_tokens/",
)
# (end oauth2 / allauth)

# --- platform hardening (issue 11): body caps, CSP, HSTS, outages, Sentry -----------------------
# Every JSON or form body is capped (413 before parsing); ingest keeps INGEST_MAX_BODY_BYTES and
# multipart uploads their own checks (backend/common/limits.py).
API_MAX_BODY_BYTES = env.int("API_MAX_BODY_BYTES", default=64 * 1024)
# Paths with their own cap (name of the setting holding it). Stripe's signed events can be
# larger than a form and must not be refused, or the credits they grant are lost.
LARGE_BODY_PATHS = {
    "/api/v1/incoming-data/": "INGEST_MAX_BODY_BYTES",
    "/server/incoming_data/": "INGEST_MAX_BODY_BYTES",
    "/api/v1/payments/stripe/webhook/": "INGEST_MAX_BODY_BYTES",
}
MIDDLEWARE.insert(
    MIDDLEWARE.index("backend.common.middleware.JsonErrorMiddleware") + 1,
    "backend.common.limits.BodySizeLimitMiddleware",
)

# Content Security Policy (django-csp, backend/common/security.py): JSON loads nothing, HTML
# pages load this site only, the API docs also what Swagger UI and ReDoc need.
INSTALLED_APPS += ["csp"]
# Outside JsonErrorMiddleware, so the JSON error bodies it makes carry the policy too.
MIDDLEWARE.insert(
    MIDDLEWARE.index("backend.common.middleware.JsonErrorMiddleware"),
    "backend.common.security.PathAwareCSPMiddleware",
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
    }
}
CSP_HTML_DIRECTIVES = {
    "default-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "object-src": ["'none'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'self'"],
    # No form-action: browsers apply it to the redirect after a POST, which would block the
    # OAuth2 authorize form from sending the user back to the client's redirect URI.
}
CSP_DOCS_PATH_PREFIXES = ("/api/docs/", "/api/redoc/")
CSP_DOCS_DIRECTIVES = {
    **CSP_HTML_DIRECTIVES,
    "style-src": ["'self'", "'unsafe-inline'"],
    "font-src": ["'self'", "data:"],
    "worker-src": ["'self'", "blob:"],
    "connect-src": ["'self'"],
}
# No badge from validator.swagger.io; no web fonts in ReDoc (see backend/common/docs.py).
SPECTACULAR_SETTINGS["SWAGGER_UI_SETTINGS"] = {"deepLinking": True, "validatorUrl": None}
SPECTACULAR_SETTINGS["REDOC_UI_SETTINGS"] = {
    "theme": {
        "typography": {
            "fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif",
            "headings": {"fontFamily": "system-ui, -apple-system, 'Segoe UI', sans-serif"},
            "code": {"fontFamily": "ui-monospace, SFMono-Regular, Menlo, monospace"},
        }
    }
}
# HSTS is sent on HTTPS responses only (SecurityMiddleware): on by default outside DEBUG.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)

# Outages: a lost database is a 503 with Retry-After; after DEPENDENCY_BREAKER_FAILURES
# connection errors in a row, Redis (cache) and the broker are skipped for
# DEPENDENCY_BREAKER_SECONDS instead of each call waiting for its connect timeout.
DEPENDENCY_RETRY_AFTER_SECONDS = env.int("DEPENDENCY_RETRY_AFTER_SECONDS", default=5)
DEPENDENCY_BREAKER_FAILURES = env.int("DEPENDENCY_BREAKER_FAILURES", default=3)
DEPENDENCY_BREAKER_SECONDS = env.float("DEPENDENCY_BREAKER_SECONDS", default=5.0)
if CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache":
    CACHES["default"]["BACKEND"] = "backend.common.cache.BreakerRedisCache"
# DRF's throttles raise when the cache is down; ours fall back to a per-process cache.
REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"] = [
    name.replace("rest_framework.throttling.", "backend.common.throttling.")
    for name in REST_FRAMEWORK["DEFAULT_THROTTLE_CLASSES"]
]

# Sentry: the DSN is all it takes (sentry-sdk with the Django and Celery integrations).
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
if SENTRY_DSN:
    from backend.common.sentry import sentry_init  # noqa: E402

    sentry_init(
        dsn=SENTRY_DSN,
        environment=ENVIRONMENT,
        release=API_VERSION,
        traces_sample_rate=SENTRY_TRACES_SAMPLE_RATE,
    )
# (end platform hardening)
