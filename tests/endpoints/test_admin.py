"""Admin pages of the endpoints app render, search and filter, and never show a key hash."""

import pytest

from tests.endpoints.factories import ScheduledTaskFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_it_renders_admin_pages_without_hashes(client):
    admin = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(admin)
    from tests.endpoints.conftest import make_api_key

    key, raw = make_api_key(admin)
    task = ScheduledTaskFactory(owner=admin)
    for url in (
        "/admin/endpoints/apikey/?q=Test",
        "/admin/endpoints/apikey/?is_active__exact=1",
        f"/admin/endpoints/apikey/{key.pk}/change/",
        "/admin/endpoints/scheduledtask/?status__exact=pending&q=Task",
        f"/admin/endpoints/scheduledtask/{task.pk}/change/",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert key.key_hash not in page and raw not in page
    assert client.get("/admin/endpoints/apikey/add/").status_code == 403
