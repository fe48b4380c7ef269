"""Stripe: checkout sessions through a local stand-in API, the signed webhook, exactly-once."""

import json
import time

import pytest

from tests.users.stripe_stub import StripeStub, sign
from tests.users.test_authentication import assert_401
from users.models import CreditTransaction, StripeEvent, User

pytestmark = pytest.mark.django_db

CHECKOUT = "/api/v1/payments/checkout-session/"
WEBHOOK = "/api/v1/payments/stripe/webhook/"
SECRET = "whsec_test_secret"
URLS = {"success_url": "https://app.example.com/ok", "cancel_url": "https://app.example.com/no"}


@pytest.fixture
def stripe_api(settings):
    with StripeStub() as stub:
        settings.STRIPE_SECRET_KEY = "sk_test_123"
        settings.STRIPE_API_BASE = stub.url
        settings.STRIPE_MAX_NETWORK_RETRIES = 0
        settings.STRIPE_WEBHOOK_SECRET = SECRET
        settings.STRIPE_CREDIT_PACKS = {"starter": {"price_id": "price_starter", "credits": 100}}
        settings.STRIPE_SUBSCRIPTION_PRICE_IDS = ["price_pro_monthly"]
        yield stub


@pytest.fixture
def webhook_secret(settings):
    settings.STRIPE_WEBHOOK_SECRET = SECRET


def test_it_creates_the_customer_once_and_a_checkout_session(auth_client, user, stripe_api):
    response = auth_client.post(CHECKOUT, {"pack": "starter", "quantity": 2, **URLS}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "id": "cs_test_1",
        "url": "https://checkout.stripe.com/c/pay/cs_test_1",
    }
    user.refresh_from_db()
    assert user.stripe_customer_id == "cus_test_1"
    customer, session = stripe_api.requests
    assert customer["path"] == "/v1/customers"
    assert customer["auth"] == "Bearer sk_test_123"
    assert customer["form"]["email"] == user.email
    assert session["path"] == "/v1/checkout/sessions"
    form = session["form"]
    assert (form["mode"], form["customer"], form["client_reference_id"]) == (
        "payment",
        "cus_test_1",
        str(user.pk),
    )
    assert (form["line_items[0][price]"], form["line_items[0][quantity]"]) == ("price_starter", "2")
    assert (form["metadata[credits]"], form["metadata[user_id]"]) == ("200", str(user.pk))
    assert form["success_url"] == URLS["success_url"]

    by_price = auth_client.post(CHECKOUT, {"price_id": "price_starter", **URLS}, format="json")
    assert by_price.json()["id"] == "cs_test_2"
    assert stripe_api.paths().count("/v1/customers") == 1
    assert stripe_api.requests[-1]["form"]["metadata[credits]"] == "100"


def test_it_starts_a_subscription_checkout_without_credits(auth_client, stripe_api):
    response = auth_client.post(CHECKOUT, {"price_id": "price_pro_monthly", **URLS}, format="json")
    assert response.status_code == 200
    form = stripe_api.requests[-1]["form"]
    assert form["mode"] == "subscription"
    assert "metadata[credits]" not in form


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"pack": "nope", **URLS}, "pack"),
        ({"price_id": "price_unknown", **URLS}, "price_id"),
        ({"pack": "starter", "price_id": "price_starter", **URLS}, "pack"),
        (
            {"pack": "starter", "success_url": "not a url", "cancel_url": URLS["cancel_url"]},
            "success_url",
        ),
        ({"pack": "starter", "quantity": 0, **URLS}, "quantity"),
        ({"pack": "starter", "credits": 10**6, **URLS}, "credits"),
    ],
)
def test_it_refuses_bad_checkout_input(auth_client, user, stripe_api, payload, field):
    response = auth_client.post(CHECKOUT, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == [field]
    assert stripe_api.paths() == []  # neither a customer nor a session was created
    user.refresh_from_db()
    assert user.stripe_customer_id in ("", None)


def test_it_answers_503_when_stripe_is_not_configured(auth_client, user, stripe_api, settings):
    settings.STRIPE_SECRET_KEY = ""
    response = auth_client.post(CHECKOUT, {"pack": "starter", **URLS}, format="json")
    assert response.status_code == 503
    assert response.json() == {
        "error": "Payments are not configured on this server.",
        "details": {},
    }
    assert stripe_api.paths() == []
    user.refresh_from_db()
    assert user.stripe_customer_id in ("", None)


def test_it_answers_502_without_provider_internals(auth_client, user, stripe_api):
    stripe_api.fail_with = 400
    response = auth_client.post(CHECKOUT, {"pack": "starter", **URLS}, format="json")
    assert response.status_code == 502
    assert "secret" not in response.content.decode()
    assert response.json()["error"].startswith("The payment provider could not process")
    # The provider refused the first call: no customer is recorded, no session was asked for.
    assert "/v1/checkout/sessions" not in stripe_api.paths()
    user.refresh_from_db()
    assert user.stripe_customer_id in ("", None)


def test_checkout_requires_authentication(api_client):
    assert_401(api_client.post(CHECKOUT, {"pack": "starter", **URLS}, format="json"))


# --- Webhook ---------------------------------------------------------------------------------------


def event(event_id: str, event_type: str, obj: dict, created: int | None = None) -> str:
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "created": created or int(time.time()),
            "livemode": False,
            "data": {"object": obj},
        }
    )


def deliver(client, payload: str, signature: str | None = "sign"):
    headers = {}
    if signature == "sign":
        signature = sign(payload, SECRET)
    if signature is not None:
        headers["HTTP_STRIPE_SIGNATURE"] = signature
    return client.post(WEBHOOK, payload, content_type="application/json", **headers)


def completed_session(user, credits=100, session_id="cs_test_9", payment_status="paid") -> dict:
    return {
        "id": session_id,
        "object": "checkout.session",
        "customer": "cus_test_1",
        "client_reference_id": str(user.pk),
        "payment_status": payment_status,
        "metadata": {"user_id": str(user.pk), "credits": str(credits), "pack": "starter"},
    }


def test_the_same_event_twice_grants_credits_once(api_client, user, webhook_secret):
    payload = event("evt_1", "checkout.session.completed", completed_session(user))
    first = deliver(api_client, payload)
    assert first.status_code == 200, first.content
    assert first.json() == {"status": "processed"}
    second = deliver(api_client, payload)
    assert second.status_code == 200
    assert second.json() == {"status": "duplicate"}
    user.refresh_from_db()
    assert user.credits == 100
    assert user.stripe_customer_id == "cus_test_1"
    assert StripeEvent.objects.get(event_id="evt_1").outcome == "processed"
    grant = CreditTransaction.objects.get(user=user)
    assert (grant.amount, grant.reference) == (100, "stripe:checkout:cs_test_9")
    # Another event about the same session (async payment) does not grant again.
    other = event("evt_2", "checkout.session.async_payment_succeeded", completed_session(user))
    assert deliver(api_client, other).status_code == 200
    user.refresh_from_db()
    assert user.credits == 100


def test_an_unpaid_session_grants_nothing(api_client, user, webhook_secret):
    payload = event(
        "evt_3", "checkout.session.completed", completed_session(user, payment_status="unpaid")
    )
    assert deliver(api_client, payload).json() == {"status": "ignored"}
    user.refresh_from_db()
    assert user.credits == 0


@pytest.mark.parametrize(
    "signature",
    [None, "garbage", sign("{}", SECRET)],  # missing, malformed, a real one of another body
)
def test_a_bad_signature_is_refused(api_client, user, webhook_secret, signature):
    payload = event("evt_4", "checkout.session.completed", completed_session(user))
    response = deliver(api_client, payload, signature=signature)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Invalid input: Stripe-Signature: The signature is missing or does not match.",
        "details": {"Stripe-Signature": ["The signature is missing or does not match."]},
    }
    user.refresh_from_db()
    assert user.credits == 0
    assert not StripeEvent.objects.exists()


def test_a_forged_or_replayed_signature_is_refused(api_client, user, webhook_secret):
    payload = event("evt_5", "checkout.session.completed", completed_session(user))
    for signature in (
        sign(payload, "whsec_forged"),
        sign(payload, SECRET, timestamp=int(time.time()) - 3600),
    ):
        assert deliver(api_client, payload, signature=signature).status_code == 400
    user.refresh_from_db()
    assert user.credits == 0
    assert user.stripe_customer_id in ("", None)
    assert not StripeEvent.objects.exists()
    assert not CreditTransaction.objects.exists()


def test_the_webhook_answers_503_without_a_secret(api_client, user, settings):
    settings.STRIPE_WEBHOOK_SECRET = ""
    payload = event("evt_6", "checkout.session.completed", completed_session(user))
    response = deliver(api_client, payload)
    assert response.status_code == 503
    assert set(response.json()) == {"error", "details"}
    user.refresh_from_db()
    assert user.credits == 0
    assert not StripeEvent.objects.exists()
    assert not CreditTransaction.objects.exists()


def test_unknown_event_types_are_acknowledged_and_ignored(api_client, webhook_secret):
    response = deliver(api_client, event("evt_7", "invoice.created", {"id": "in_1"}))
    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}


def subscription(status: str, price: str = "price_pro_monthly") -> dict:
    return {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_test_1",
        "status": status,
        "items": {"data": [{"price": {"id": price}, "current_period_end": 1_900_000_000}]},
    }


def test_it_tracks_the_subscription(api_client, user, webhook_secret):
    User.objects.filter(pk=user.pk).update(stripe_customer_id="cus_test_1")
    now = int(time.time())
    created = event("evt_s1", "customer.subscription.created", subscription("active"), now - 10)
    assert deliver(api_client, created).json() == {"status": "processed"}
    user.refresh_from_db()
    assert (user.subscription_id, user.subscription_status, user.subscription_plan) == (
        "sub_1",
        "active",
        "price_pro_monthly",
    )
    assert int(user.subscription_current_period_end.timestamp()) == 1_900_000_000

    deleted = event("evt_s2", "customer.subscription.deleted", subscription("canceled"), now)
    assert deliver(api_client, deleted).status_code == 200
    # An older update delivered late does not bring the subscription back.
    late = event("evt_s3", "customer.subscription.updated", subscription("past_due"), now - 5)
    assert deliver(api_client, late).json() == {"status": "ignored"}
    user.refresh_from_db()
    assert user.subscription_status == "canceled"
