"""Statements planned once per connection (backend/common/prepared.py), on a real PostgreSQL."""

from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.common.prepared import PreparedStatement, prepared_names
from destinations.pipeline.claims import CLAIM_ALL, deliveries_claim
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PREPARE is PostgreSQL's"
)


def test_named_placeholders_become_positional_ones_once_each():
    statement = PreparedStatement(
        "probe", "SELECT %(a)s + %(b)s, %(a)s, 'x' LIKE 'x%%' WHERE %(b)s > 0"
    )
    assert statement.keys == ("a", "b")
    assert (
        statement.prepare_sql == "PREPARE probe AS SELECT $1 + $2, $1, 'x' LIKE 'x%' WHERE $2 > 0"
    )
    assert statement.execute_sql == "EXECUTE probe(%s, %s)"
    assert PreparedStatement("bare", "SELECT 1").execute_sql == "EXECUTE bare"


def executed(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"].split(" ", 2)[0] + " " + q["sql"].split(" ", 2)[1] for q in queries]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_it_prepares_once_per_connection_and_again_on_a_new_one():
    statement = PreparedStatement("test_probe_sum", "SELECT %(a)s::int + %(b)s::int, %(a)s::int")
    connection.ensure_connection()
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        statement.execute(cursor, {"a": 2, "b": 3})
        assert cursor.fetchone() == (5, 2)
        statement.execute(cursor, {"a": 10, "b": -1, "unused": "ignored"})
        assert cursor.fetchone() == (9, 10)
    assert executed(queries) == [
        "PREPARE test_probe_sum",
        "EXECUTE test_probe_sum(2,",
        "EXECUTE test_probe_sum(10,",
    ]
    # A rolled-back transaction keeps it (PostgreSQL's prepared statements are not transactional).
    with transaction.atomic(), connection.cursor() as cursor:
        statement.execute(cursor, {"a": 1, "b": 1})
        transaction.set_rollback(True)
    assert "test_probe_sum" in prepared_names(connections["default"])
    # A new connection knows none: prepared again, not a "does not exist" error.
    connection.close()
    with CaptureQueriesContext(connection) as queries, connection.cursor() as cursor:
        statement.execute(cursor, {"a": 4, "b": 4})
        assert cursor.fetchone() == (8, 4)
    assert executed(queries)[0] == "PREPARE test_probe_sum"
    assert prepared_names(connections["default"]) == {"test_probe_sum"}


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_claim_settles_on_one_generic_plan():
    """What preparing is for: after a few claims PostgreSQL stops planning the claim."""
    connection.close()  # a fresh session: the counts below are this test's
    destination = DestinationFactory()
    now = timezone.now()
    for _ in range(3):
        DeliveryLogFactory(destination=destination, next_attempt_at=now - timedelta(seconds=1))
    claimed = []
    for _ in range(8):
        claimed += deliveries_claim(limit=1)
    assert len({job.log_id for job in claimed}) == 3  # still right: each due log once
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = %s",
            [CLAIM_ALL.name],
        )
        generic, custom = cursor.fetchone()
    assert custom <= 5 and generic >= 3, (generic, custom)
