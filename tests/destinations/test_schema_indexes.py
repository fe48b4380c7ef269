"""The indexes the pipeline relies on exist after `migrate`, with the columns and partial
conditions their queries need (migrations 0003: retention, 0004: claims). The schema is read from
the migrated test database, never created by the test, so dropping an index from its migration
(or changing its condition) fails here.

The claim queries may be rewritten: these tests pin the indexes' definitions, not a plan."""

import re

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from destinations.models import DeliveryAttempt, DeliveryLog
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory

pytestmark = pytest.mark.django_db


def migrated_index(name: str) -> tuple[str, list[str], str]:
    """(table, columns, definition) of index `name` as the database holds it; the definition
    without quotes, schema or casts, spaces collapsed."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tablename, indexdef FROM pg_indexes WHERE indexname = %s", [name]
            )
        else:
            cursor.execute(
                "SELECT tbl_name, sql FROM sqlite_master WHERE type = 'index' AND name = %s", [name]
            )
        row = cursor.fetchone()
        assert row is not None, f"index {name} missing from the migrated schema"
        table, definition = row
        constraints = connection.introspection.get_constraints(cursor, table)
    columns = constraints[name]["columns"]
    definition = definition.replace('"', "").replace("public.", "")
    definition = re.sub(r"::[a-z ]+(\[\])?", "", definition)
    return table, columns, re.sub(r"\s+", " ", definition)


def test_claims_skip_untripped_destinations_through_a_partial_index():
    table, columns, definition = migrated_index("dest_breaker_tripped_idx")
    assert table == "destinations_destination"
    assert columns == ["id"]
    assert re.search(r"WHERE \(?breaker_trips > 0\)?$", definition), definition


def test_claims_find_controlled_destinations_through_a_partial_index():
    table, columns, definition = migrated_index("dest_controlled_idx")
    assert table == "destinations_destination"
    assert columns == ["id"]
    condition = definition.split(" WHERE ", 1)[1].replace("(", "").replace(")", "")
    assert condition == "is_active AND fifo OR rate_limit IS NOT NULL", definition


def test_retention_batches_read_events_in_received_order():
    table, columns, definition = migrated_index("dest_event_received_idx")
    assert table == "destinations_event"
    assert columns == ["received_at", "id"]
    assert " WHERE " not in definition


def test_retentions_probe_reads_only_unfinished_logs():
    table, columns, definition = migrated_index("dest_log_unfinished_idx")
    assert table == "destinations_deliverylog"
    assert columns == ["event_id"]
    condition = definition.split(" WHERE ", 1)[1]
    assert condition.replace("(", "").replace(")", "").startswith("NOT status"), definition
    assert "'success'" in condition and "'failed'" in condition, definition


# Migration 0007: every claim and outcome rewrites each index of a log row, so the queue tables
# keep no single-column index that a composite one starting with the same column covers.
DROPPED_SINGLE_COLUMN_INDEXES = {
    ("destinations_deliverylog", "account_id"): "dest_log_account_recv_idx",
    ("destinations_deliverylog", "destination_id"): "dest_log_dest_status_idx",
    ("destinations_deliverylog", "event_id"): "destinations_log_event_dest_unique",
    ("destinations_deliveryattempt", "log_id"): "dest_attempt_log_idx",
    ("destinations_event", "account_id"): "destinations_event_unique",
}


def constraints_of(table: str) -> dict:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def single_column_indexes(table: str) -> set[str]:
    """Columns with an index of their own over the whole table (partial indexes aside)."""
    partial = {
        index.name
        for model in apps.get_app_config("destinations").get_models()
        for index in model._meta.indexes
        if index.condition is not None
    }
    return {
        info["columns"][0]
        for name, info in constraints_of(table).items()
        if info["index"]
        and len(info["columns"]) == 1
        and not info["primary_key"]
        and name not in partial
    }


@pytest.mark.parametrize(("table", "column"), sorted(DROPPED_SINGLE_COLUMN_INDEXES))
def test_queue_tables_index_a_foreign_key_only_through_a_composite_index(table, column):
    assert column not in single_column_indexes(table)
    constraints = constraints_of(table)
    covering = constraints[DROPPED_SINGLE_COLUMN_INDEXES[(table, column)]]
    assert covering["columns"][0] == column  # still found through this one
    foreign_keys = {info["columns"][0] for info in constraints.values() if info["foreign_key"]}
    # The constraint itself stays, but for the two whose checks could never fail (0008).
    assert (column in foreign_keys) is ((table, column) not in UNCHECKED_FOREIGN_KEYS)


# Migration 0008: checked at commit for every row inserted, these could never fail (the log's
# destination ties it to its account; attempts are written only for logs their statement locked).
UNCHECKED_FOREIGN_KEYS = {
    ("destinations_deliverylog", "account_id"),
    ("destinations_deliveryattempt", "log_id"),
}


def foreign_key_columns(table: str) -> set[str]:
    return {info["columns"][0] for info in constraints_of(table).values() if info["foreign_key"]}


def test_the_queue_tables_check_only_the_foreign_keys_that_can_fail():
    assert foreign_key_columns("destinations_deliverylog") == {"event_id", "destination_id"}
    assert foreign_key_columns("destinations_deliveryattempt") == set()
    assert foreign_key_columns("destinations_event") == {"account_id"}


def test_nothing_indexes_logs_by_creation_time():
    assert "created_at" not in single_column_indexes("destinations_deliverylog")


@pytest.mark.parametrize("deleted", ["destination", "account"])
def test_deleting_a_destination_or_an_account_leaves_no_log_or_attempt_behind(account, deleted):
    """Without the two constraints, Django's collector is what cascades: nothing is orphaned."""
    log = DeliveryLogFactory(destination=DestinationFactory(account=account))
    DeliveryAttempt.objects.create(
        log=log, attempt_number=1, started_at=timezone.now(), outcome="success"
    )
    elsewhere = DeliveryLogFactory()  # another account's log stays
    DeliveryAttempt.objects.create(
        log=elsewhere, attempt_number=1, started_at=timezone.now(), outcome="success"
    )

    (log.destination if deleted == "destination" else account).delete()

    assert list(DeliveryLog.objects.values_list("id", flat=True)) == [elsewhere.pk]
    assert list(DeliveryAttempt.objects.values_list("log_id", flat=True)) == [elsewhere.pk]
