"""The small things a newcomer sees first: the site is named after the API (not example.com) on
the DRF and allauth login pages, and /favicon.ico is an icon, not a 404."""

import pytest
from django.contrib.sites.models import Site

from backend.common.site import name_the_site

pytestmark = pytest.mark.django_db


def test_the_site_is_named_after_the_api_after_migrate(settings):
    site = Site.objects.get(pk=settings.SITE_ID)
    assert site.name == settings.SITE_NAME == "Backend API"
    assert site.domain == settings.SITE_DOMAIN


@pytest.mark.parametrize("path", ["/api/v1/auth/login/", "/accounts/login/"])
def test_no_login_page_says_example_com(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"example.com" not in response.content


def test_a_site_renamed_by_an_admin_is_left_alone(settings):
    Site.objects.filter(pk=settings.SITE_ID).update(name="Acme hooks", domain="hooks.acme.test")
    name_the_site()
    site = Site.objects.get(pk=settings.SITE_ID)
    assert (site.name, site.domain) == ("Acme hooks", "hooks.acme.test")


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert b"".join(response.streaming_content)[:4] == b"\x00\x00\x01\x00"  # ICO header
