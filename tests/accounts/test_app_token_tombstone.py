"""A deleted account's CL-X-TOKEN is refused at once everywhere (the tombstone written on commit,
accounts/app_tokens.py): by another process whose lookups are cached in the shared cache, and
after a lookup that raced the delete (it must not put the old mapping back)."""

import http.client
import json
import threading

import pytest
from django.core.cache import cache
from django.db import connection, connections

from accounts.app_tokens import TOMBSTONE, _key, account_id_for_app_token
from accounts.models import Account
from destinations.models import Event
from tests.factories import AccountFactory
from tests.support.gunicorn import GunicornProcess

INGEST = "/api/v1/incoming-data/"


def ingest(server: GunicornProcess, token: str) -> tuple[int, dict]:
    connection_ = http.client.HTTPConnection("127.0.0.1", server.port, timeout=15)
    try:
        connection_.request(
            "POST",
            INGEST,
            body=json.dumps({"hello": "world"}),
            headers={"Content-Type": "application/json", "CL-X-TOKEN": token},
        )
        response = connection_.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection_.close()


@pytest.mark.slow
def test_another_process_refuses_a_deleted_accounts_token_at_once(transactional_db, tmp_path):
    account = AccountFactory()
    token = str(account.app_secret_token)
    server = GunicornProcess(tmp_path, workers=1).start()
    try:
        status, _ = ingest(server, token)
        assert status == 200
        # The web process cached the mapping in the shared cache: its next lookup asks no one.
        assert cache.get(_key(account.app_secret_token)) == account.pk

        account.delete()  # in this process; the web process is told only through the cache
        assert cache.get(_key(account.app_secret_token)) == TOMBSTONE

        status, body = ingest(server, token)
        assert status == 401, body
        assert set(body) == {"error", "details"}
    finally:
        server.stop()
    assert not Event.objects.exists()  # the accepted one went with its account; none after


@pytest.mark.django_db(transaction=True)
def test_a_lookup_racing_the_delete_does_not_cache_the_old_token_again():
    account = AccountFactory()
    token = account.app_secret_token
    cache.delete(_key(token))  # a miss: the lookup reads the database
    deleted: list[bool] = []

    def delete_in_another_connection() -> None:
        try:
            Account.objects.filter(pk=account.pk).delete()  # commits: the tombstone is set
        finally:
            connections.close_all()

    def delete_right_after_the_lookups_select(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        if "app_secret_token" in sql and not deleted:
            deleted.append(True)
            other = threading.Thread(target=delete_in_another_connection)
            other.start()
            other.join()
        return result

    with connection.execute_wrapper(delete_right_after_the_lookups_select):
        # The racing lookup read the row before the delete committed: it answers the old id...
        assert account_id_for_app_token(str(token)) == account.pk
    assert deleted
    assert not Account.objects.filter(pk=account.pk).exists()
    # ...but could not cache it over the tombstone: the next lookup refuses the token.
    assert cache.get(_key(token)) == TOMBSTONE
    assert account_id_for_app_token(str(token)) is None
