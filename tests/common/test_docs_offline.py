"""The API docs load nothing from outside the site (they must work with no network)."""

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from backend.common.docs import REDOC_BUNDLE, REDOC_REMOTE_LOGO

SITE = "http://testserver"
# Hosts the stock ReDoc page or bundle fetch from; none may appear in what we serve.
REMOTE_HOSTS = (b"fonts.googleapis.com", b"fonts.gstatic.com", b"cdn.redoc.ly", b"cdn.jsdelivr")


class _ResourceCollector(HTMLParser):
    """URLs the browser fetches by itself: scripts, stylesheets, icons, images, preconnects."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source") and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])


def _fetched_urls(html: str) -> list[str]:
    parser = _ResourceCollector()
    parser.feed(html)
    css_urls = re.findall(r"url\(([^)]+)\)", html)
    return parser.urls + [u.strip("'\" ") for u in css_urls]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/docs/", "/api/redoc/"])
def test_it_loads_only_same_site_resources_on_the_docs_pages(path):
    client = Client()
    response = client.get(path)
    assert response.status_code == 200
    urls = _fetched_urls(response.content.decode())
    assert urls, "the page loads its UI from somewhere"
    for url in urls:
        absolute = urljoin(SITE + path, url)
        assert urlsplit(absolute).netloc == "testserver", f"{path} loads {url}"
        local_path = urlsplit(absolute).path
        if local_path.startswith(settings.STATIC_URL):  # collectstatic does not run in tests
            assert finders.find(local_path.removeprefix(settings.STATIC_URL)), url
            continue
        fetched = client.get(local_path, {"script": ""} if "script" in url else {})
        assert fetched.status_code == 200, url
    for host in REMOTE_HOSTS:
        assert host not in response.content


@pytest.mark.django_db
def test_it_serves_the_redoc_bundle_without_the_remote_logo():
    response = Client().get("/api/redoc/redoc.standalone.js")
    assert response.status_code == 200
    code = b"".join(response.streaming_content) if response.streaming else response.content
    # The stock bundle does load the logo: the check below would catch it coming back.
    with open(finders.find(REDOC_BUNDLE), "rb") as stock:
        assert REDOC_REMOTE_LOGO in stock.read()
    assert REDOC_REMOTE_LOGO not in code
    assert b"/static/docs/redoc-logo.svg" in code
    for host in REMOTE_HOSTS:
        assert host not in code
    assert b"Redoc" in code and len(code) > 100_000


@pytest.mark.django_db
def test_it_serves_the_swagger_init_script_as_a_file():
    client = Client()
    html = client.get("/api/docs/").content.decode()
    assert "<script>" not in html  # no inline script: CSP script-src 'self' holds
    script = client.get("/api/docs/", {"script": ""})
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content
    assert b"validator.swagger.io" not in script.content
    assert b'"validatorUrl": null' in script.content
