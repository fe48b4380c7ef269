"""Device tracking: each login records its device; list; revoking a device kills its tokens."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tests.users.conftest import bearer, login
from tests.users.test_authentication import assert_401
from users.models import Device, DeviceLogin

pytestmark = pytest.mark.django_db

DEVICES = "/api/v1/users/me/devices/"
COMPAT = "/api/access/logged-devices/"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
DESKTOP = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)


def login_from(client, user, agent, ip="127.0.0.1"):
    response = login(client, user.email, HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    assert response.status_code == 200, response.content
    return response.json()


def test_it_records_the_device_of_each_login(api_client, user):
    login_from(api_client, user, IPHONE)
    login_from(api_client, user, IPHONE)
    login_from(api_client, user, DESKTOP, ip="10.1.2.3")
    phone = Device.objects.get(user=user, user_agent=IPHONE)
    assert (phone.browser, phone.os, phone.device, phone.device_type, phone.ip) == (
        "Mobile Safari 17.0",
        "iOS 17.0",
        "iPhone",
        "mobile",
        "127.0.0.1",
    )
    # Same browser and address → the same device, one login family per login.
    assert Device.objects.filter(user=user).count() == 2
    assert DeviceLogin.objects.filter(device=phone).count() == 2
    desktop = Device.objects.get(user=user, user_agent=DESKTOP)
    assert (desktop.browser, desktop.os, desktop.device_type) == (
        "Chrome 120.0.0",
        "Windows 10",
        "pc",
    )


def test_it_lists_the_callers_devices(api_client, user):
    login_from(api_client, user, DESKTOP, ip="10.1.2.3")
    tokens = login_from(api_client, user, IPHONE)
    login_from(api_client, UserFactory(), IPHONE)  # someone else's
    response = bearer(tokens["access"]).get(DEVICES)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    phone = Device.objects.get(user=user, user_agent=IPHONE)
    first = body["results"][0]
    assert first == {
        "id": str(phone.id),
        "browser": "Mobile Safari 17.0",
        "os": "iOS 17.0",
        "device": "iPhone",
        "device_type": "mobile",
        "ip": "127.0.0.1",
        "user_agent": IPHONE,
        "first_seen": first["first_seen"],
        "last_seen": first["last_seen"],
        "current": True,
    }
    assert body["results"][1]["current"] is False
    compat = bearer(tokens["access"]).get(COMPAT)
    assert compat.status_code == 200
    assert [d["id"] for d in compat.json()["results"]] == [d["id"] for d in body["results"]]


@pytest.mark.parametrize("path", [DEVICES, COMPAT])
def test_revoking_a_device_kills_its_tokens_only(api_client, user, path):
    phone = login_from(api_client, user, IPHONE)
    phone_again = login_from(api_client, user, IPHONE)
    desktop = login_from(api_client, user, DESKTOP, ip="10.1.2.3")
    device = Device.objects.get(user=user, user_agent=IPHONE)

    response = bearer(desktop["access"]).delete(f"{path}{device.id}/")
    assert response.status_code == 204
    for pair in (phone, phone_again):
        assert_401(bearer(pair["access"]).get("/api/v1/users/me/"))
        refresh = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
        assert refresh.status_code == 401
    assert bearer(desktop["access"]).get("/api/v1/users/me/").status_code == 200
    device.refresh_from_db()
    assert device.revoked_at is not None
    listed = bearer(desktop["access"]).get(path).json()["results"]
    assert [d["user_agent"] for d in listed] == [DESKTOP]
    assert bearer(desktop["access"]).delete(f"{path}{device.id}/").status_code == 404
    # Logging in again from that browser makes a fresh device.
    login_from(api_client, user, IPHONE)
    assert Device.objects.filter(user=user, user_agent=IPHONE, revoked_at__isnull=True).count() == 1


@pytest.mark.parametrize("path", [DEVICES, COMPAT])
def test_another_users_device_is_not_found(api_client, user, path):
    mine = login_from(api_client, user, DESKTOP)
    other = UserFactory()
    theirs = login_from(api_client, other, IPHONE)
    device = Device.objects.get(user=other)
    response = bearer(mine["access"]).delete(f"{path}{device.id}/")
    assert response.status_code == 404
    assert set(response.json()) == {"error", "details"}
    assert bearer(mine["access"]).delete(f"{path}not-a-uuid/").status_code == 404
    device.refresh_from_db()
    assert device.revoked_at is None
    assert bearer(theirs["access"]).get("/api/v1/users/me/").status_code == 200


def test_refresh_keeps_last_seen_fresh_cheaply(api_client, user):
    pair = login_from(api_client, user, IPHONE)
    long_ago = timezone.now() - timedelta(days=2)
    Device.objects.update(last_seen=long_ago)
    rotated = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]}).json()
    device = Device.objects.get(user=user)
    assert device.last_seen > long_ago
    # Within DEVICE_LAST_SEEN_INTERVAL_SECONDS a refresh does not write again.
    Device.objects.update(last_seen=long_ago)
    again = api_client.post("/api/v1/auth/token/refresh/", {"refresh": rotated["refresh"]})
    assert again.status_code == 200
    device.refresh_from_db()
    assert device.last_seen == long_ago


def test_it_requires_authentication(api_client):
    assert_401(api_client.get(DEVICES))
    assert_401(api_client.get(COMPAT))
