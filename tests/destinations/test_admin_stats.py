"""The destination's admin page shows its stats and a chart drawn on the server (inline SVG)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from destinations.admin_stats import chart
from destinations.models import DeliveryAttempt
from tests.destinations.factories import DeliveryLogFactory, DestinationFactory
from tests.factories import UserFactory


@pytest.fixture
def admin_site_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def destination_with_traffic(db):
    destination = DestinationFactory(breaker_trips=1, breaker_open_until=timezone.now())
    log = DeliveryLogFactory(destination=destination, status="success", attempts=3)
    start = timezone.now() - timedelta(hours=3)
    for number, (outcome, code, ms) in enumerate(
        [("retry", 503, 120), ("retry", None, 5000), ("success", 200, 80)], start=1
    ):
        DeliveryAttempt.objects.create(
            log=log,
            attempt_number=number,
            started_at=start + timedelta(seconds=number),
            outcome=outcome,
            status_code=code,
            duration_ms=ms,
            error="" if outcome == "success" else "HTTP 503.",
        )
    return destination


def panel_of(content: bytes) -> str:
    html = content.decode()
    start = html.index('<fieldset class="module aligned destination-stats"')
    return html[start : html.index("</fieldset>", start)]


def test_it_shows_the_figures_and_a_chart(admin_site_client, destination_with_traffic):
    url = f"/admin/destinations/destination/{destination_with_traffic.pk}/change/"
    response = admin_site_client.get(url)
    assert response.status_code == 200
    panel = panel_of(response.content)
    assert "Delivery stats: last 24h" in panel
    assert "3 (1 success, 2 failure)" in panel
    assert "success rate 33.3 %" in panel
    assert "p50 80 ms" in panel and "p95 120 ms" in panel
    assert "half_open" in panel
    # One bucket with both outcomes: a green and a red bar, and the p95 point of that hour.
    assert panel.count("<rect x=") == 2
    assert "1 succeeded" in panel and "2 failed" in panel
    assert "<polyline" in panel
    # Nothing the admin's CSP would block: no script, no style attribute, no other site.
    assert "<script" not in panel and "style=" not in panel
    assert not re.search(r'(?:href|src)="(?:https?:)?//', panel)
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "default-src 'self'" in policy
    assert "/static/destinations/admin-stats.css" in response.content.decode()


def test_it_switches_the_window(admin_site_client, destination_with_traffic):
    url = f"/admin/destinations/destination/{destination_with_traffic.pk}/change/"
    panel = panel_of(admin_site_client.get(url, {"stats_window": "7d"}).content)
    assert "Delivery stats: last 7d" in panel
    assert panel.count('text-anchor="middle"') == 8  # one label per day
    fallback = panel_of(admin_site_client.get(url, {"stats_window": "bogus"}).content)
    assert "Delivery stats: last 24h" in fallback


def test_the_chart_scales_bars_and_the_p95_line():
    series = [
        {"start": "2026-12-07T10:00:00Z", "success": 10, "failure": 0, "p95_ms": 50.0},
        {"start": "2026-12-07T11:00:00Z", "success": 0, "failure": 0, "p95_ms": None},
        {"start": "2026-12-07T12:00:00Z", "success": 5, "failure": 5, "p95_ms": 100.0},
    ]
    drawn = chart({"window": "24h", "series": series})
    assert drawn["count_max"] == 10
    plot_height = drawn["bottom"] - drawn["top"]
    full, half_success, half_failure = drawn["bars"]
    assert full.height == pytest.approx(plot_height)
    assert half_success.height == pytest.approx(plot_height / 2)
    assert half_failure.y + half_failure.height == pytest.approx(half_success.y)
    assert len(drawn["p95_points"].split()) == 2  # the empty hour has no point
    assert [label.text for label in drawn["x_labels"]] == ["10:00", "11:00", "12:00"]
