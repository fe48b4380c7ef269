"""The ingest reference: a bare Django WSGI app doing the same durable work as the product's ingest.

`gunicorn bench._reference_app:application` with the same DATABASE_URL as the product: one view
reads `CL-X-TOKEN`, resolves the account id with one SQL query, stores the event with one raw
INSERT into the product's own `destinations_event` table (fanned_out_at NULL, so it is the same
row the product writes) and answers the product's JSON. No middleware, no DRF, no auth classes,
no cache: the least work that keeps the promise "accepted means stored".
"""

import json
import os
import uuid
from datetime import UTC, datetime

import environ
from django.conf import settings

if not settings.configured:
    database = environ.Env.db_url_config(os.environ["DATABASE_URL"])
    if database["ENGINE"].endswith("postgresql"):
        database["CONN_MAX_AGE"] = 60  # the product's persistent connections (no health check)
    else:  # the product's SQLite options (WAL, wait for locks), so both wait alike
        database["OPTIONS"] = {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench-reference",
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        DATABASES={"default": database},
        INSTALLED_APPS=[],
        MIDDLEWARE=[],
        USE_TZ=True,
    )

from django.core.wsgi import get_wsgi_application  # noqa: E402 - needs the settings above
from django.db import IntegrityError, connection  # noqa: E402
from django.http import JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402

SQLITE = connection.vendor == "sqlite"


def error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message, "details": {}}, status=status)


@csrf_exempt
def ingest(request):
    if request.method != "POST":
        return error(405, "Method not allowed.")
    try:
        token = uuid.UUID(request.headers.get("CL-X-TOKEN", "").strip())
    except ValueError:
        return error(401, "Invalid CL-X-TOKEN.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM accounts_account WHERE app_secret_token = %s", [token.hex])
        row = cursor.fetchone()
    if row is None:
        return error(401, "Invalid CL-X-TOKEN.")
    try:
        body = request.body.decode("utf-8")
        if not isinstance(json.loads(body), dict):
            return error(400, "The body must be a JSON object.")
    except (ValueError, UnicodeDecodeError):
        return error(400, "Malformed JSON.")
    event_id = request.headers.get("CL-X-EVENT-ID") or f"evt_{uuid.uuid4().hex}"
    received_at = datetime.now(UTC)
    if SQLITE:
        received_at = received_at.replace(tzinfo=None).isoformat(" ")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO destinations_event "
                "(account_id, event_id, event_type, body, received_at, fanned_out_at) "
                "VALUES (%s, %s, '', %s, %s, NULL)",
                [row[0], event_id, body, received_at],
            )
    except IntegrityError:
        return JsonResponse({"message": "Data Received", "event_id": event_id, "duplicate": True})
    return JsonResponse({"message": "Data Received", "event_id": event_id})


def ready(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [path("api/v1/incoming-data/", ingest), path("ready/", ready)]

application = get_wsgi_application()
