"""What Swagger UI and ReDoc say beyond the operations: how webhooks are signed and verified, the
ingest credential (`CL-X-TOKEN`) as a security scheme, and the tags in reading order (the
canonical ones first, `compat` last).

Imported by base.py after the framework settings (it extends SPECTACULAR_SETTINGS).
"""

from backend.settings.base import SPECTACULAR_SETTINGS

WEBHOOK_SIGNING = """
## Webhooks: how deliveries are signed

Each delivery is a `POST` (or the destination's method) of the ingested body, byte for byte,
signed the [Standard Webhooks](https://www.standardwebhooks.com/) way:

| header | value |
| --- | --- |
| `webhook-id` | the message id (the same on every retry of one delivery: deduplicate on it) |
| `webhook-timestamp` | Unix seconds when this attempt was signed (refuse old ones: replays) |
| `webhook-signature` | `v1,<base64 HMAC-SHA256>` of `{webhook-id}.{webhook-timestamp}.{body}` |

The key is the destination's `signing_secret` (`whsec_` + base64 of the key bytes), shown to the
account's Admins when the destination is created or read, and renewed by
`POST /api/v1/destinations/{id}/rotate-secret/` (`grace_seconds`, default one day): during that
overlap each delivery carries two signatures, `v1,<new> v1,<old>`, so a receiver still holding
the old secret keeps verifying until it is updated.

Verify with the `standardwebhooks` library (Python shown; there are libraries for most languages):

```python
from standardwebhooks import Webhook

def verify(secret: str, body: bytes, headers: dict) -> dict:
    # Raises WebhookVerificationError when the signature or the timestamp is wrong.
    return Webhook(secret).verify(body, headers)
```

Use the raw request body (not a re-serialised copy) and the headers as received.
"""

SPECTACULAR_SETTINGS["DESCRIPTION"] = (
    "Identity (JWT), API keys, scheduled tasks, accounts, webhook destinations and reliable "
    "delivery.\n\n"
    "**Sending data**: `POST /api/v1/incoming-data/` with the account's `CL-X-TOKEN` (its "
    "`app_secret_token`, listed by `GET /api/v1/accounts/`), or an API key / OAuth2 token with "
    "the `ingest` scope. Every destination of the account then receives it, signed.\n"
    + WEBHOOK_SIGNING
    + "\nRoutes tagged `compat` are the seed documents' compatibility paths (listed last)."
)

# Security schemes that no authentication class declares: the ingest credential.
SPECTACULAR_SETTINGS["APPEND_COMPONENTS"] = {
    "securitySchemes": {
        "clXToken": {
            "type": "apiKey",
            "in": "header",
            "name": "CL-X-TOKEN",
            "description": (
                "The account's `app_secret_token` (a UUID; `GET /api/v1/accounts/` lists it for "
                "members, `POST /api/v1/accounts/{id}/rotate-secret/` renews it). Accepted on "
                "the ingest endpoint only."
            ),
        }
    }
}

# Reading order in Swagger UI and ReDoc: first what a newcomer needs, compat last.
SPECTACULAR_SETTINGS["TAGS"] = [
    {"name": "auth", "description": "Register, log in (JWT), refresh, log out."},
    {"name": "users", "description": "Your profile; the user directory for staff."},
    {
        "name": "accounts",
        "description": "Accounts and their members. Each account has an `app_secret_token`: "
        "the `CL-X-TOKEN` that producers send data with.",
    },
    {
        "name": "destinations",
        "description": "Webhook destinations of an account. Deliveries are signed: see "
        "*Webhooks: how deliveries are signed* in the introduction.",
    },
    {
        "name": "ingest",
        "description": "Send data (`CL-X-TOKEN`, or an API key / OAuth2 token with the `ingest` "
        "scope); it is delivered to each destination of the account.",
    },
    {"name": "logs", "description": "Delivery logs: status, attempts, the payload as received."},
    {"name": "api-keys", "description": "API keys (shown once) and their scopes."},
    {"name": "tasks", "description": "Scheduled background tasks."},
    {"name": "oauth2", "description": "OAuth2 provider and applications."},
    {"name": "credits", "description": "Credit balance and history."},
    {"name": "payments", "description": "Stripe Checkout and its webhook."},
    {"name": "health", "description": "Health of the service and its configured components."},
    {"name": "meta", "description": "API root documents."},
    {"name": "compat", "description": "The seed documents' compatibility routes (same views)."},
]

# drf-spectacular's enum hook, then one stating the password rules (backend/common/schema.py).
SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] = [
    "drf_spectacular.hooks.postprocess_schema_enums",
    "backend.common.schema.state_password_rules",
]
