"""Pre-registration: anonymous, validated, idempotent in any case, throttled."""

import pytest

from users.models import PreRegistration

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/pre-register/", "/api/access/pre-register/"])
def test_it_keeps_an_email_once(api_client, path):
    first = api_client.post(path, {"email": "Early@Example.com"}, format="json")
    again = api_client.post(path, {"email": "early@example.COM"}, format="json")
    assert first.status_code == again.status_code == 200
    assert (
        first.json()
        == again.json()
        == {
            "message": "Thank you: you are on the list.",
            "email": "early@example.com",
        }
    )
    assert list(PreRegistration.objects.values_list("email", flat=True)) == ["early@example.com"]


@pytest.mark.parametrize("payload", [{"email": "nope"}, {}, {"email": "a@b.co", "name": "x"}])
def test_it_refuses_bad_input(api_client, payload):
    response = api_client.post("/api/v1/pre-register/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["name" if "name" in payload else "email"]
    assert not PreRegistration.objects.exists()


def test_it_is_throttled(api_client, settings):
    # PRE_REGISTER_THROTTLE_RATE defaults to 10 an hour per client.
    assert settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["pre_register"] == "10/hour"
    statuses = [
        api_client.post("/api/access/pre-register/", {"email": f"p{i}@example.com"}).status_code
        for i in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    assert PreRegistration.objects.count() == 10
