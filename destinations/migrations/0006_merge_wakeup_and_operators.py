# Joins the two 0005 migrations made side by side (the engine's NOTIFY trigger and lost attempts;
# the operators' stats indexes, attempt destination trigger and trace context).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("destinations", "0005_delivery_wakeup_and_lost_attempts"),
        ("destinations", "0005_operators_stats_indexes_trace_context"),
    ]

    operations = []
