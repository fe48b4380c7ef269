"""Drops two foreign-key constraints of the queue tables whose checks could never fail.

Each constraint was checked at commit for every row inserted: one query per row, which also locks
the referenced row. Measured on the mixed bench (ingest while delivering), these two checks were
about 0.3 ms of PostgreSQL's CPU per event:
- a log's account: the log's destination constraint already ties it to that account, and the check
  locked the account's row for every log, the same row every ingest request's event locks;
- an attempt's log: every writer inserts attempts only for logs its own statement has just updated,
  so the log is locked until the commit and cannot be gone.
The fields stay foreign keys for Django (joins, admin, deletes cascading through its collector).
On PostgreSQL this only drops the constraints. SQLite rebuilds the two tables, which drops the
attempts table's trigger (migration 0005), which also names the logs table: it is dropped
before the rebuilds and created again after them, both ways.
"""

import importlib

import django.db.models.deletion
from django.db import migrations, models

FILL_TRIGGER = importlib.import_module(
    "destinations.migrations.0005_operators_stats_indexes_trace_context"
)


def fill_trigger_again_on_sqlite(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return  # PostgreSQL keeps its triggers: the constraint is dropped in place
    schema_editor.execute(FILL_TRIGGER.SQLITE_REVERSE)
    FILL_TRIGGER.fill_trigger_forward(apps, schema_editor)


def fill_trigger_off_on_sqlite(apps, schema_editor):
    """Before the rebuilds: the trigger names the logs table, which a rebuild replaces."""
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(FILL_TRIGGER.SQLITE_REVERSE)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_account_name_case_insensitive_unique"),
        ("destinations", "0007_fewer_queue_indexes"),
    ]

    operations = [
        migrations.RunPython(fill_trigger_off_on_sqlite, fill_trigger_again_on_sqlite),
        migrations.AlterField(
            model_name="deliveryattempt",
            name="log",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="attempt_set",
                to="destinations.deliverylog",
            ),
        ),
        migrations.AlterField(
            model_name="deliverylog",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="delivery_logs",
                to="accounts.account",
            ),
        ),
        migrations.RunPython(fill_trigger_again_on_sqlite, fill_trigger_off_on_sqlite),
    ]
