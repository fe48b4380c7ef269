"""Settings come from the environment: embedded default with nothing set, a clear refusal for
an unsafe production start, and PostgreSQL/Redis when their URLs are given."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SHOW = (
    "from django.conf import settings as s;"
    "print(s.DATABASES['default']['ENGINE']);"
    "print(s.CACHES['default']['BACKEND']);"
    "print(s.CELERY_BROKER_URL)"
)


def run_django(code: str, **env_overrides) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "SECRET_KEY", "DEBUG"}
    }
    env["DJANGO_SETTINGS_MODULE"] = "backend.settings.base"
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_it_runs_on_the_embedded_default_with_nothing_set():
    result = run_django(SHOW)
    assert result.returncode == 0, result.stderr
    engine, cache_backend, broker = result.stdout.split()
    assert engine == "django.db.backends.sqlite3"
    assert cache_backend.endswith("FileBasedCache")
    # kombu's SQLAlchemy transport on a SQLite file under VAR_DIR (README "Embedded broker").
    assert broker.startswith("sqla+sqlite:///")
    assert broker.endswith("/broker.sqlite3")


def test_it_uses_postgres_and_redis_when_their_urls_are_set():
    result = run_django(
        SHOW,
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/app",
        REDIS_URL="redis://127.0.0.1:6379/4",
    )
    assert result.returncode == 0, result.stderr
    engine, cache_backend, broker = result.stdout.split()
    # Django's PostgreSQL backend with the health-check grace (backend/db_backends/postgresql).
    assert engine == "backend.db_backends.postgresql"
    assert cache_backend == "backend.common.cache.BreakerRedisCache"  # django-redis + breaker
    assert broker == "redis://127.0.0.1:6379/4"


def test_it_takes_rabbitmq_as_the_broker():
    result = run_django(
        "from django.conf import settings as s; print(s.CELERY_BROKER_URL)",
        REDIS_URL="redis://127.0.0.1:6379/4",
        CELERY_BROKER_URL="amqp://guest:guest@127.0.0.1:5672//",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "amqp://guest:guest@127.0.0.1:5672//"


def test_it_refuses_to_start_without_secret_key_when_debug_is_off():
    result = run_django("print('started')", DEBUG="False")
    assert result.returncode != 0
    assert "started" not in result.stdout
    message = result.stderr.strip().splitlines()
    assert message == [
        "SECRET_KEY must be set when DEBUG is off (set SECRET_KEY or SECRET_KEY_FILE)."
    ]


def test_it_starts_in_production_mode_with_a_secret_key():
    result = run_django(
        "from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE)",
        DEBUG="False",
        SECRET_KEY="x" * 50,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "True"]


def test_ensure_database_creates_a_missing_postgres_database_once():
    import secrets

    import psycopg2

    try:
        psycopg2.connect("postgres://postgres@127.0.0.1:5432/postgres", connect_timeout=3).close()
    except psycopg2.OperationalError:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"ensure_{secrets.token_hex(4)}"
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    code = "from django.core.management import call_command; call_command('ensure_database')"
    try:
        first = run_django(code, DATABASE_URL=url)
        assert first.returncode == 0, first.stderr
        assert f"Created database {name}." in first.stdout
        again = run_django(code, DATABASE_URL=url)
        assert again.returncode == 0, again.stderr
        assert "Created" not in again.stdout
    finally:
        conn = psycopg2.connect("postgres://postgres@127.0.0.1:5432/postgres")
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.close()
