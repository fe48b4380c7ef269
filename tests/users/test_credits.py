"""Credits: atomic grants and debits, never negative, idempotent references, the API."""

import threading

import pytest
from django.db import connections
from rest_framework.exceptions import APIException, ValidationError

from backend.common.exceptions import Conflict
from tests.factories import UserFactory
from tests.users.test_authentication import assert_401
from users import services
from users.exceptions import InsufficientCredits
from users.models import CreditTransaction, User

CREDITS = "/api/v1/users/me/credits/"
SPEND = "/api/v1/users/me/credits/spend/"


def balance(user) -> int:
    return User.objects.values_list("credits", flat=True).get(pk=user.pk)


@pytest.mark.django_db
def test_it_grants_and_spends_with_a_ledger(user):
    grant = services.credits_grant(user=user, amount=10, reason="Welcome bonus")
    spend = services.credits_spend(user=user, amount=3, reason="Export")
    assert (grant.amount, grant.balance_after, spend.amount, spend.balance_after) == (10, 10, -3, 7)
    assert balance(user) == 7


@pytest.mark.django_db
def test_it_never_goes_negative(user):
    services.credits_grant(user=user, amount=2, reason="Bonus")
    with pytest.raises(InsufficientCredits):
        services.credits_spend(user=user, amount=3, reason="Export")
    assert balance(user) == 2
    assert CreditTransaction.objects.filter(user=user).count() == 1


@pytest.mark.django_db
def test_a_reference_makes_it_idempotent(user):
    first = services.credits_grant(user=user, amount=5, reason="Purchase", reference="order-1")
    again = services.credits_grant(user=user, amount=5, reason="Purchase", reference="order-1")
    assert again.pk == first.pk
    assert balance(user) == 5
    with pytest.raises(Conflict):
        services.credits_grant(user=user, amount=6, reason="Purchase", reference="order-1")
    # References are per user.
    other = UserFactory()
    services.credits_grant(user=other, amount=5, reason="Purchase", reference="order-1")
    assert balance(other) == 5


@pytest.mark.django_db
@pytest.mark.parametrize("amount", [0, -1, 1.5, True, 10**10])
def test_it_refuses_bad_amounts(user, amount):
    with pytest.raises(ValidationError):
        services.credits_grant(user=user, amount=amount, reason="x")
    assert balance(user) == 0


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_debits_of_ten_credits_leave_exactly_zero():
    # Each thread has its own database connection. On SQLite the IMMEDIATE transactions
    # serialize the writers, and the same assertions hold.
    user = UserFactory()
    services.credits_grant(user=user, amount=10, reason="Bonus")
    start = threading.Barrier(20)
    outcomes: list[str] = []
    lock = threading.Lock()

    def spend():
        try:
            start.wait(timeout=10)
            services.credits_spend(user=user, amount=1, reason="Concurrent")
            result = "ok"
        except InsufficientCredits:
            result = "refused"
        except APIException as exc:  # pragma: no cover - shown if it ever happens
            result = f"error {exc}"
        finally:
            connections.close_all()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=spend) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["ok"] * 10 + ["refused"] * 10
    assert balance(user) == 0
    assert CreditTransaction.objects.filter(user=user, amount=-1).count() == 10
    assert sorted(
        CreditTransaction.objects.filter(user=user, amount=-1).values_list(
            "balance_after", flat=True
        )
    ) == list(range(10))


@pytest.mark.django_db
def test_it_shows_the_balance_and_paginated_history(auth_client, user, other_user):
    for i in range(3):
        services.credits_grant(user=user, amount=i + 1, reason=f"Grant {i}")
    services.credits_grant(user=other_user, amount=99, reason="Not yours")
    response = auth_client.get(CREDITS, {"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["balance"] == 6
    assert body["count"] == 3
    assert body["next"] is not None
    newest = CreditTransaction.objects.filter(user=user).order_by("-id").first()
    assert body["results"][0] == {
        "id": newest.id,
        "amount": 3,
        "balance_after": 6,
        "reason": "Grant 2",
        "reference": "",
        "created_at": body["results"][0]["created_at"],
    }
    assert auth_client.get("/api/v1/users/me/").json()["credits"] == 6


@pytest.mark.django_db
def test_it_spends_through_the_api(auth_client, user):
    services.credits_grant(user=user, amount=5, reason="Bonus")
    response = auth_client.post(
        SPEND, {"amount": 2, "reason": "Report", "reference": "r-1"}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["balance"] == 3
    assert body["transaction"]["amount"] == -2
    assert body["transaction"]["reference"] == "r-1"
    # A retried call with the same reference spends once.
    again = auth_client.post(SPEND, {"amount": 2, "reason": "Report", "reference": "r-1"})
    assert again.json()["balance"] == 3
    assert balance(user) == 3


@pytest.mark.django_db
def test_it_refuses_to_overspend_with_402(auth_client, user):
    services.credits_grant(user=user, amount=1, reason="Bonus")
    response = auth_client.post(SPEND, {"amount": 2, "reason": "Report"}, format="json")
    assert response.status_code == 402
    assert response.json() == {
        "error": "Insufficient credits: 2 needed, 1 available.",
        "details": {"amount": ["Exceeds your balance of 1 credits."]},
    }
    assert balance(user) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount": 0, "reason": "x"}, "amount"),
        ({"amount": "many", "reason": "x"}, "amount"),
        ({"amount": 1}, "reason"),
        ({"amount": 1, "reason": "x", "user": "someone"}, "user"),
    ],
)
def test_it_refuses_bad_input_naming_the_field(auth_client, user, payload, field):
    services.credits_grant(user=user, amount=5, reason="Bonus")
    response = auth_client.post(SPEND, payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == [field]
    assert balance(user) == 5


@pytest.mark.django_db
def test_it_requires_authentication(api_client):
    assert_401(api_client.get(CREDITS))
    assert_401(api_client.post(SPEND, {"amount": 1, "reason": "x"}, format="json"))
