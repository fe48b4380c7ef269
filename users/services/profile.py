"""Profile: the caller's own fields and avatar (stored under a random name, the old file
deleted after commit).
"""

import logging
import os
import uuid
from typing import Any

from django.core.files.storage import Storage
from django.db import IntegrityError, transaction
from rest_framework import exceptions

from users.models import User
from users.services.registration import PROFILE_FIELDS, user_full_clean, username_check

logger = logging.getLogger(__name__)


@transaction.atomic
def user_profile_update(*, user: User, **fields: Any) -> User:
    """Updates the caller's own profile fields (not email, password or credits).

    `avatar` is an already-checked image upload (users.serializers) or None to remove it; it is
    written to the default storage only once every other field is valid, and the previous file
    is deleted after commit.
    """
    unknown = set(fields) - PROFILE_FIELDS - {"username", "avatar"}
    if unknown:
        raise TypeError(f"user_profile_update() got unexpected fields: {sorted(unknown)}")
    has_avatar = "avatar" in fields
    avatar = fields.pop("avatar", None)
    if "username" in fields:
        fields["username"] = fields["username"].strip()
        username_check(fields["username"], exclude_pk=user.pk)
    if "notification_preferences" in fields:
        fields["notification_preferences"] = {
            **(user.notification_preferences or {}),
            **fields["notification_preferences"],
        }
    for name, value in fields.items():
        setattr(user, name, value)
    user_full_clean(user)
    update_fields = [*fields, "updated_at"]
    old_avatar = user.avatar.name if user.avatar else ""
    stored = ""
    if has_avatar:
        update_fields.append("avatar")
        if avatar is None:
            user.avatar = None
        else:
            extension = os.path.splitext(avatar.name)[1].lower() or ".img"
            # A random name: the URL reveals neither the user nor the uploaded file's name.
            user.avatar.save(f"{uuid.uuid4().hex}{extension}", avatar, save=False)
            stored = user.avatar.name or ""
    try:
        with transaction.atomic():
            user.save(update_fields=update_fields)
    except IntegrityError as exc:
        if stored:
            user.avatar.storage.delete(stored)
        raise exceptions.ValidationError(
            {"username": ["A user with this username already exists."]}
        ) from exc
    if has_avatar and old_avatar and old_avatar != stored:
        storage = User._meta.get_field("avatar").storage
        transaction.on_commit(lambda: _delete_file(storage, old_avatar))
    return user


def _delete_file(storage: Storage, name: str) -> None:
    try:
        storage.delete(name)
    except Exception:
        logger.warning("Could not delete the replaced avatar %s", name)
