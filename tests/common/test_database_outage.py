"""PostgreSQL (or the SQLite file) unreachable: 503 JSON with Retry-After everywhere, then recovery.

The connection is pointed at a closed port (or an unopenable file): a real connection failure.
"""

import pytest
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories import DEFAULT_PASSWORD, AccountFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def database_down():
    saved = dict(connection.settings_dict)

    def down():
        connection.close()
        if connection.vendor == "postgresql":
            connection.settings_dict.update(HOST="127.0.0.1", PORT="1")  # nothing listens there
        else:
            connection.settings_dict["NAME"] = "/nonexistent-directory/db.sqlite3"

    def up():
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    yield down, up
    up()


def assert_503(response):
    assert response.status_code == 503, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "5"
    body = response.json()
    assert body == {"error": "The database is unavailable. Retry in a few seconds.", "details": {}}


def test_every_kind_of_api_path_answers_503_then_recovers(database_down):
    down, up = database_down
    user = UserFactory()
    account = AccountFactory()
    jwt = APIClient(raise_request_exception=False)
    jwt.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    anonymous = APIClient(raise_request_exception=False)
    login = {"email": user.email, "password": DEFAULT_PASSWORD}

    def requests():
        return {
            "ingest": anonymous.post(
                "/api/v1/incoming-data/",
                {"kind": "x"},
                format="json",
                HTTP_CL_X_TOKEN=str(account.app_secret_token),
            ),
            "login": anonymous.post("/api/v1/auth/token/", login, format="json"),
            "list": jwt.get("/api/v1/api-keys/"),
            "me": jwt.get("/api/v1/users/me/"),
        }

    down()
    for name, response in requests().items():
        assert response.status_code == 503, name
        assert_503(response)
    up()
    statuses = {name: response.status_code for name, response in requests().items()}
    assert statuses == {"ingest": 200, "login": 200, "list": 200, "me": 200}


def test_html_pages_answer_503_too(database_down):
    down, up = database_down
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = Client(raise_request_exception=False)
    client.force_login(staff)
    down()
    # The session and the user are loaded by middleware and the admin, outside DRF.
    assert_503(client.get("/admin/"))
    up()
    assert client.get("/admin/").status_code == 200
