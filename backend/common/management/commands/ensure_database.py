"""`manage.py ensure_database`: creates the configured PostgreSQL database if it is missing.

So `DATABASE_URL=postgres://.../newdb make run` works on a server where only the role exists.
SQLite files are created by the first connection anyway; other engines are left alone.
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection


class Command(BaseCommand):
    help = "Create the configured PostgreSQL database if it does not exist yet."

    def handle(self, *args: Any, **options: Any) -> None:
        if connection.vendor != "postgresql":
            return
        name = connection.settings_dict["NAME"]
        # Django's maintenance connection goes to the `postgres` database, not the missing one.
        with connection._nodb_cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is not None:
                return
            quoted = connection.ops.quote_name(name)
            try:
                cursor.execute(f"CREATE DATABASE {quoted}")
            except Exception as exc:  # noqa: BLE001 - report the server's reason in one line
                raise CommandError(f"Could not create database {name}: {exc}") from exc
        self.stdout.write(f"Created database {name}.")
