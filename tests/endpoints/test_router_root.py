"""`GET /api/v1/` is seed 001's DefaultRouter root; `/` and `/api/` stay the API-info document."""

import pytest


@pytest.mark.django_db
def test_it_maps_each_resource_to_its_absolute_list_url(api_client):
    response = api_client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    assert response.json() == {
        "users": "http://testserver/api/v1/users/",
        "api-keys": "http://testserver/api/v1/api-keys/",
        "tasks": "http://testserver/api/v1/tasks/",
    }


@pytest.mark.django_db
def test_its_urls_lead_to_the_lists(staff_client):
    root = staff_client.get("/api/v1/").json()
    for url in root.values():
        assert staff_client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_it_answers_without_credentials_and_ignores_bad_ones(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer garbage")
    assert api_client.get("/api/v1/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/api/"])
def test_the_other_roots_keep_the_api_info_document(api_client, path):
    body = api_client.get(path, HTTP_ACCEPT="application/json").json()
    assert set(body) == {"name", "version", "environment", "links"}
    assert body["links"]["api"] == "http://testserver/api/v1/"
