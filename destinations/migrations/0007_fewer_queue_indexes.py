"""Drops the single-column indexes that nothing reads.

Every claim and outcome of the delivery engine updates a log row, and so writes each of its
indexes. The foreign-key indexes of logs, attempts and events are covered by composite indexes
that start with the same column, and nothing looks logs up by created_at. Only the indexes go:
Django's own AlterField would also drop and re-add each foreign key, which validates it again
over the whole table.
"""

import django.db.models.deletion
from django.db import migrations, models

# (index, table, column) as Django's first migrations named them, on PostgreSQL and SQLite alike.
REDUNDANT_INDEXES = [
    ("destinations_deliveryattempt_log_id_7c915c4e", "destinations_deliveryattempt", "log_id"),
    ("destinations_deliverylog_account_id_e38f0583", "destinations_deliverylog", "account_id"),
    ("destinations_deliverylog_created_at_25e26c7d", "destinations_deliverylog", "created_at"),
    (
        "destinations_deliverylog_destination_id_ccbb18d9",
        "destinations_deliverylog",
        "destination_id",
    ),
    ("destinations_deliverylog_event_id_1b2b4dce", "destinations_deliverylog", "event_id"),
    ("destinations_event_account_id_36793511", "destinations_event", "account_id"),
]


def unindexed_foreign_key(model: str, **options) -> models.ForeignKey:
    return models.ForeignKey(
        db_index=False, on_delete=django.db.models.deletion.CASCADE, to=model, **options
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_account_name_case_insensitive_unique"),
        ("destinations", "0006_merge_wakeup_and_operators"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{index}" ON "{table}" ("{column}")',
                )
                for index, table, column in REDUNDANT_INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="deliveryattempt",
                    name="log",
                    field=unindexed_foreign_key(
                        "destinations.deliverylog", related_name="attempt_set"
                    ),
                ),
                migrations.AlterField(
                    model_name="deliverylog",
                    name="account",
                    field=unindexed_foreign_key("accounts.account", related_name="delivery_logs"),
                ),
                migrations.AlterField(
                    model_name="deliverylog",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
                migrations.AlterField(
                    model_name="deliverylog",
                    name="destination",
                    field=unindexed_foreign_key("destinations.destination", related_name="logs"),
                ),
                migrations.AlterField(
                    model_name="deliverylog",
                    name="event",
                    field=unindexed_foreign_key("destinations.event", related_name="logs"),
                ),
                migrations.AlterField(
                    model_name="event",
                    name="account",
                    field=unindexed_foreign_key("accounts.account", related_name="events"),
                ),
            ],
        )
    ]
