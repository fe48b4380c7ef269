"""User manager: email is the login identifier; a username is derived when none is given."""

import secrets
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import BaseUserManager

if TYPE_CHECKING:
    from users.models import User


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def normalize_email(self, email: str | None) -> str:  # type: ignore[override]
        return (email or "").strip().lower()

    def _unique_username(self, email: str) -> str:
        base = (email.split("@", 1)[0] or "user")[:140]
        candidate = base
        while self.filter(username__iexact=candidate).exists():
            candidate = f"{base}-{secrets.token_hex(3)}"
        return candidate

    def _create_user(
        self, email: str, password: str | None, username: str | None = None, **extra_fields: Any
    ) -> "User":
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email)
        username = username or self._unique_username(email)
        user = self.model(email=email, username=username, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(
        self,
        email: str,
        password: str | None = None,
        username: str | None = None,
        **extra_fields: Any,
    ) -> "User":
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, username, **extra_fields)

    def create_superuser(
        self,
        email: str,
        password: str | None = None,
        username: str | None = None,
        **extra_fields: Any,
    ) -> "User":
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff=True and is_superuser=True.")
        return self._create_user(email, password, username, **extra_fields)

    def get_by_natural_key(self, identifier: str | None) -> "User":
        """Look a user up by email (case-insensitive) or username."""
        identifier = (identifier or "").strip()
        if "@" in identifier:
            return self.get(email__iexact=identifier)
        return self.get(username__iexact=identifier)
