"""HTML pages carry nothing their Content Security Policy refuses: no inline <style> or style=""
(the browsable API's code styles come from a file), no inline script."""

import re

import pytest

pytestmark = pytest.mark.django_db

INLINE_STYLE = re.compile(rb"<style[\s>]|\sstyle=")
# A script element with code in it (JSON data blocks are not run, so the CSP allows them).
INLINE_SCRIPT = re.compile(rb'<script(?![^>]*\s(?:src=|type="application/json"))[^>]*>\s*\S')


def assert_no_inline_code(content: bytes) -> None:
    assert not INLINE_STYLE.search(content), INLINE_STYLE.search(content)
    assert not INLINE_SCRIPT.search(content), INLINE_SCRIPT.search(content)


@pytest.mark.parametrize("path", ["/api/v1/", "/api/v1/tasks/", "/api/v1/users/me/"])
def test_the_browsable_api_has_no_inline_style(client, user, path):
    client.force_login(user)
    response = client.get(path, HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"/static/site/pygments.css" in response.content
    assert_no_inline_code(response.content)


def test_the_anonymous_router_root_has_no_inline_style(client):
    response = client.get("/api/v1/", HTTP_ACCEPT="text/html")
    assert_no_inline_code(response.content)
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
