"""Drops two foreign-key constraints of the queue tables whose checks could never fail.

Each constraint was checked at commit for every row inserted: one query per row, which also locks
the referenced row. Measured on the mixed bench (ingest while delivering), these two checks were
about 0.3 ms of PostgreSQL's CPU per event:
- a log's account: the log's destination constraint already ties it to that account, and the check
  locked the account's row for every log, the same row every ingest request's event locks;
- an attempt's log: every writer inserts attempts only for logs its own statement has just updated,
  so the log is locked until the commit and cannot be gone.
The fields stay foreign keys for Django (joins, admin, deletes cascading through its collector).
On PostgreSQL this only drops the constraints; SQLite rebuilds the two tables.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_account_name_case_insensitive_unique"),
        ("destinations", "0007_fewer_queue_indexes"),
    ]

    operations = [
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
    ]
