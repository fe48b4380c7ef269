"""HTML pages carry nothing their Content Security Policy refuses: no inline <style> or style=""
(the browsable API's code styles come from a file), no inline script."""

import re

import pytest

pytestmark = pytest.mark.django_db

INLINE_STYLE = re.compile(rb"<style[\s>]|\sstyle=")
INLINE_HANDLER = re.compile(rb"\son[a-z]+=|javascript:")
# A script element with code in it (JSON data blocks are not run, so the CSP allows them).
INLINE_SCRIPT = re.compile(rb'<script(?![^>]*\s(?:src=|type="application/json"))[^>]*>\s*\S')


def assert_no_inline_code(content: bytes) -> None:
    assert not INLINE_STYLE.search(content), INLINE_STYLE.search(content)
    assert not INLINE_SCRIPT.search(content), INLINE_SCRIPT.search(content)
    assert not INLINE_HANDLER.search(content), INLINE_HANDLER.search(content)


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


def test_the_logged_in_user_menu_logs_out_through_a_form(client, user):
    client.force_login(user)
    response = client.get("/api/v1/tasks/", HTTP_ACCEPT="text/html")
    action = re.search(rb'<form method="post" action="([^"]*logout[^"]*)"', response.content)
    assert action, "no logout form"
    logout = client.post(action.group(1).decode())
    assert logout.status_code in (200, 302)
    assert "_auth_user_id" not in client.session


def test_the_favicon_carries_no_document_policy(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert "Content-Security-Policy" not in response
