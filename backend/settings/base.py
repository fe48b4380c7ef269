"""Settings for every environment, read from the environment with an embedded default.

Nothing set → SQLite file under var/, a file cache and an embedded SQLite Celery broker, so one
command runs web + worker + beat. `DATABASE_URL` / `REDIS_URL` switch to PostgreSQL and Redis.
"""

import sys
from pathlib import Path
from typing import Any

from backend.env import BASE_DIR, VAR_DIR, env, env_secret

VAR_DIR.mkdir(parents=True, exist_ok=True)

API_VERSION: str = "1.0.0"
API_NAME = "Backend API"

DEBUG: bool = env.bool("DEBUG", default=True)
SECRET_KEY: str = env_secret("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        sys.exit("SECRET_KEY must be set when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE).")
    SECRET_KEY = "insecure-development-key-only-for-debug-mode-do-not-use-in-production"
ENVIRONMENT: str = env.str("ENVIRONMENT", default="development" if DEBUG else "production")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS: list[str] = [
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

MIDDLEWARE: list[str] = [
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
# The sites framework's name and domain (allauth pages and mails, the DRF login page).
SITE_NAME = env.str("SITE_NAME", default=API_NAME)
SITE_DOMAIN = env.str("SITE_DOMAIN", default="127.0.0.1:8000")

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
        # Django's backend, with the health check skipped for a connection that served a
        # request without error within the grace (backend/db_backends/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "backend.db_backends.postgresql"
        DATABASES["default"]["OPTIONS"].setdefault(
            "HEALTH_CHECK_GRACE_SECONDS", env.float("DB_HEALTH_CHECK_GRACE_SECONDS", default=1.0)
        )
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
REDIS_URL: str = env.str("REDIS_URL", default="")
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=1.0)
CACHES: dict[str, Any]
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
AUTHENTICATION_BACKENDS: list[str] = ["users.backends.EmailOrUsernameBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_LOCKOUT_ATTEMPTS = env.int("LOGIN_LOCKOUT_ATTEMPTS", default=5)
LOGIN_LOCKOUT_IP_ATTEMPTS = env.int("LOGIN_LOCKOUT_IP_ATTEMPTS", default=20)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=900)

# --- REST framework, schema ---------------------------------------------------------------------
MAX_PAGE_SIZE = env.int("MAX_PAGE_SIZE", default=100)
REST_FRAMEWORK: dict[str, Any] = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.JWTAuthentication",
        "endpoints.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "backend.common.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "backend.common.pagination.PageNumberPagination",
    "PAGE_SIZE": env.int("PAGE_SIZE", default=20),
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # Every operation documents the errors it can answer (401/403/404/413/429 from its classes).
    "DEFAULT_SCHEMA_CLASS": "backend.common.schema.AutoSchema",
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
SPECTACULAR_SETTINGS: dict[str, Any] = {
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
FRONTEND_URL: str = env.str("FRONTEND_URL", default="http://127.0.0.1:8000")

# --- Product settings -------------------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=5 * 1024 * 1024)
SENTRY_DSN: str = env.str("SENTRY_DSN", default="")

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
HTML_PATH_PREFIXES: tuple[str, ...] = (
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
    "filters": {
        "request_id": {"()": "backend.common.logging.RequestIdFilter"},
        "routine_tasks_at_debug": {"()": "backend.common.logging.RoutineTasksAtDebugFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id", "routine_tasks_at_debug"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}


# =====================================================================================================
# Integrations. Each reads its block from its own module; the order matters, because later ones
# extend what base and earlier ones set (REST_FRAMEWORK, CELERY_BEAT_SCHEDULE, INSTALLED_APPS, ...).
# =====================================================================================================
# isort: off
from backend.settings.celery import *  # noqa: E402, F403
from backend.settings.jwt import *  # noqa: E402, F403
from backend.settings.users import *  # noqa: E402, F403
from backend.settings.payments import *  # noqa: E402, F403
from backend.settings.accounts import *  # noqa: E402, F403
from backend.settings.endpoints import *  # noqa: E402, F403
from backend.settings.delivery import *  # noqa: E402, F403
from backend.settings.oauth2 import *  # noqa: E402, F403
from backend.settings.allauth import *  # noqa: E402, F403
from backend.settings.security import *  # noqa: E402, F403
from backend.settings.api_docs import *  # noqa: E402, F403
# isort: on
