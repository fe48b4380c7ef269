"""Profile (users.services.profile): the caller's own fields and avatar.

The caller's profile: /api/v1/users/me/ and seed 002's /api/access/users/me/.

Avatar upload on /users/me/: real images only, size limit, stored via the storage API.
"""

import io

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.users.test_authentication import assert_401

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/users/me/", "/api/access/users/me/"])
def test_it_shows_the_profile(auth_client, user, path):
    response = auth_client.get(path)
    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.id),
        "email": user.email,
        "username": user.username,
        "first_name": "",
        "last_name": "",
        "phone_number": "",
        "birth_date": None,
        "avatar": None,
        "notification_preferences": {"email": True, "marketing": False, "security": True},
        "email_confirmed": False,
        "credits": 0,
        "subscription_status": "",
        "subscription_plan": "",
        "date_joined": response.json()["date_joined"],
    }


@pytest.mark.parametrize("path", ["/api/v1/users/me/", "/api/access/users/me/"])
def test_it_updates_the_profile(auth_client, user, path):
    response = auth_client.patch(
        path,
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "phone_number": "+44 20 7946 0958",
            "birth_date": "1990-12-10",
            "notification_preferences": {"marketing": True},
            "username": "ada",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["first_name"] == "Ada"
    assert body["phone_number"] == "+442079460958"
    assert body["notification_preferences"] == {"email": True, "marketing": True, "security": True}
    user.refresh_from_db()
    assert (user.username, user.last_name, str(user.birth_date)) == (
        "ada",
        "Lovelace",
        "1990-12-10",
    )


def test_it_refuses_read_only_fields(auth_client, user):
    response = auth_client.patch(
        "/api/v1/users/me/", {"email": "new@example.com", "credits": 100}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"] == {
        "credits": ["This field is read-only."],
        "email": ["This field is read-only."],
    }
    user.refresh_from_db()
    assert user.email != "new@example.com"
    assert user.credits == 0


def test_it_refuses_unknown_fields(auth_client):
    response = auth_client.patch("/api/v1/users/me/", {"nickname": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == {"nickname": ["Unknown field."]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone_number", "12345"),
        ("birth_date", "2999-01-01"),
        ("notification_preferences", {"sms": True}),
        ("notification_preferences", {"email": "yes"}),
        ("username", "has space"),
        ("username", "a@b.c"),
    ],
)
def test_it_refuses_invalid_values_naming_the_field(auth_client, user, field, value):
    response = auth_client.patch("/api/v1/users/me/", {field: value}, format="json")
    assert response.status_code == 400, response.content
    assert list(response.json()["details"]) == [field]
    before = user.__dict__[field] if field != "notification_preferences" else None
    user.refresh_from_db()
    if before is not None:
        assert getattr(user, field) == before


def test_it_refuses_a_username_taken_in_another_case(auth_client, other_user):
    response = auth_client.patch(
        "/api/v1/users/me/", {"username": other_user.username.upper()}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["username"]


def test_it_requires_authentication(api_client):
    assert_401(api_client.get("/api/v1/users/me/"))
    assert_401(api_client.patch("/api/v1/users/me/", {"first_name": "x"}, format="json"))


ME = "/api/v1/users/me/"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def png_bytes(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize("path", [ME, "/api/access/users/me/"])
def test_it_stores_a_real_png_and_returns_its_url(auth_client, user, media_root, path):
    response = auth_client.patch(
        path, {"avatar": upload("me.gif", png_bytes()), "first_name": "Ada"}, format="multipart"
    )
    assert response.status_code == 200, response.content
    user.refresh_from_db()
    assert user.first_name == "Ada"
    name = user.avatar.name
    # Named after the detected format with a random name, not the client's file name.
    assert name.startswith("avatars/") and name.endswith(".png") and "me" not in name
    assert default_storage.exists(name)
    assert (media_root / name).read_bytes() == png_bytes()
    assert response.json()["avatar"] == f"http://testserver/media/{name}"
    assert auth_client.get(ME).json()["avatar"] == f"http://testserver/media/{name}"


def test_it_replaces_and_removes_the_avatar(auth_client, user, django_capture_on_commit_callbacks):
    auth_client.patch(ME, {"avatar": upload("a.png", png_bytes())}, format="multipart")
    user.refresh_from_db()
    first = user.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        auth_client.patch(ME, {"avatar": upload("b.png", png_bytes((4, 4)))}, format="multipart")
    user.refresh_from_db()
    assert user.avatar.name != first
    assert not default_storage.exists(first)
    second = user.avatar.name
    with django_capture_on_commit_callbacks(execute=True):
        response = auth_client.patch(ME, {"avatar": None}, format="json")
    assert response.json()["avatar"] is None
    user.refresh_from_db()
    assert not user.avatar
    assert not default_storage.exists(second)


def test_it_refuses_a_file_that_is_not_an_image(auth_client, user, media_root):
    response = auth_client.patch(
        ME,
        {"avatar": upload("evil.png", b"<?php echo 'hi'; ?>"), "first_name": "Eve"},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["details"] == {
        "avatar": ["Upload a valid image (PNG, JPEG, GIF or WebP)."]
    }
    user.refresh_from_db()
    assert (user.first_name, user.avatar.name or "") == ("", "")
    assert not media_root.exists() or not any(media_root.rglob("*.*"))


def test_it_refuses_an_image_that_is_too_big(auth_client, user, settings):
    settings.AVATAR_MAX_BYTES = 100
    response = auth_client.patch(
        ME, {"avatar": upload("big.png", png_bytes((64, 64)))}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"avatar": ["The image is too large: at most 100 bytes."]}
    user.refresh_from_db()
    assert not user.avatar


def test_it_stores_nothing_when_another_field_is_invalid(auth_client, user, media_root):
    response = auth_client.patch(
        ME, {"avatar": upload("a.png", png_bytes()), "phone_number": "12"}, format="multipart"
    )
    assert response.status_code == 400
    assert list(response.json()["details"]) == ["phone_number"]
    user.refresh_from_db()
    assert not user.avatar
    assert not media_root.exists() or not any(media_root.rglob("*.png"))


def test_it_requires_authentication_for_an_avatar(api_client):
    assert_401(api_client.patch(ME, {"avatar": upload("a.png", png_bytes())}, format="multipart"))
