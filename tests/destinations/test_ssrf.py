"""SSRF guard: unsafe URLs are refused at create/update (400 naming `url`) and at delivery time."""

import pytest

from destinations.models import DeliveryAttempt, DeliveryLog, Destination
from destinations.pipeline.engine import delivery_attempt
from destinations.pipeline.ssrf import UnsafeDestinationError, validate_destination_url
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory

UNSAFE_URLS = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/hook",
    "http://10.0.0.5/",
    "http://172.16.3.4/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/",
    "http://2130706433/",
    "http://0x7f000001/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://0.0.0.0/",
    "http://100.64.0.1/",
    "http://224.0.0.1/",
    "http://[fc00::1]/",
    "http://[fe80::1]/",
    "http://example.com@127.0.0.1/",
    "http://user:pass@example.com/",
    "file:///etc/passwd",
    "ftp://example.com/file",
    "gopher://example.com/",
    "http:///nohost",
]


@pytest.mark.parametrize("url", UNSAFE_URLS)
def test_it_refuses_unsafe_urls(url):
    with pytest.raises(UnsafeDestinationError):
        validate_destination_url(url)


def test_it_accepts_public_ip_urls():
    validate_destination_url("https://93.184.216.34/hook")
    validate_destination_url("http://[2606:2800:220:1:248:1893:25c8:1946]:8443/x")


def test_it_exempts_allowed_hosts(settings):
    settings.DESTINATION_ALLOWED_HOSTS = ["127.0.0.1"]
    validate_destination_url("http://127.0.0.1:9999/hook")
    with pytest.raises(UnsafeDestinationError):
        validate_destination_url("http://10.0.0.1/hook")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://localhost/",
        "http://169.254.169.254/",
        "http://[::1]/",
        "http://2130706433/",
        "http://0x7f000001/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "file:///etc/passwd",
        "ftp://example.com/",
    ],
)
def test_it_answers_400_naming_url_on_create(admin_client, account, url):
    response = admin_client.post(
        f"/api/v1/accounts/{account.pk}/destinations/", {"url": url}, format="json"
    )
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"error", "details"}
    assert "url" in body["details"]
    assert not Destination.objects.exists()


def test_it_answers_400_naming_url_on_update(admin_client, destination):
    response = admin_client.patch(
        f"/api/v1/destinations/{destination.pk}/",
        {"url": "http://192.168.0.10/hook"},
        format="json",
    )
    assert response.status_code == 400
    assert "url" in response.json()["details"]
    destination.refresh_from_db()
    assert destination.url == "https://93.184.216.34/hook"


def test_it_refuses_at_delivery_time_permanently(db, sink):
    # Stored before the allow-list changed (as if DNS changed since creation): refused at send.
    destination = DestinationFactory(url=sink.url("/hook"))
    log = DeliveryLogFactory(destination=destination)

    assert delivery_attempt(log_id=log.pk) == "failed"

    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.FAILED
    assert "SSRF" in log.last_error
    assert log.processed_timestamp is not None
    assert sink.received() == []
    attempt = DeliveryAttempt.objects.get(log=log)
    assert attempt.outcome == "failed" and attempt.status_code is None


@pytest.mark.parametrize(
    "location", ["http://127.0.0.1:1/internal", "http://169.254.169.254/latest/meta-data/"]
)
def test_it_never_follows_redirects(db, sink, allow_local, location):
    sink.script("/hook", [{"status": 302, "headers": {"Location": location}}])
    destination = DestinationFactory(url=sink.url("/hook"))
    log = DeliveryLogFactory(destination=destination)

    assert delivery_attempt(log_id=log.pk) == "failed"

    log.refresh_from_db()
    assert log.status == DeliveryLog.Status.FAILED
    assert log.last_status_code == 302
    assert "redirect" in log.last_error
    assert len(sink.received()) == 1  # only the original request; the Location was not fetched
    assert DeliveryAttempt.objects.get(log=log).status_code == 302


@pytest.mark.parametrize(
    ("url", "host"),
    [("http://127.0.0.1:9000/hook", "127.0.0.1"), ("http://localhost:9000/hook", "localhost")],
)
def test_a_local_refusal_says_how_to_allow_the_host_for_development(url, host):
    with pytest.raises(UnsafeDestinationError) as refusal:
        validate_destination_url(url)
    assert f"for local development: DESTINATION_ALLOWED_HOSTS={host})" in str(refusal.value)
