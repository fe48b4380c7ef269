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

# (model, field, target, related_name) of the foreign keys that lose their own index.
UNINDEXED_FOREIGN_KEYS = [
    ("deliveryattempt", "log", "destinations.deliverylog", "attempt_set"),
    ("deliverylog", "account", "accounts.account", "delivery_logs"),
    ("deliverylog", "destination", "destinations.destination", "logs"),
    ("deliverylog", "event", "destinations.event", "logs"),
    ("event", "account", "accounts.account", "events"),
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
                *(
                    migrations.AlterField(
                        model_name=model_name,
                        name=name,
                        field=unindexed_foreign_key(to, related_name=related_name),
                    )
                    for model_name, name, to, related_name in UNINDEXED_FOREIGN_KEYS
                ),
                migrations.AlterField(
                    model_name="deliverylog",
                    name="created_at",
                    field=models.DateTimeField(auto_now_add=True),
                ),
            ],
        )
    ]
