"""Accounts (tenants) and their memberships."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from backend.common.models import BaseModel


class Account(BaseModel):
    """A tenant: destinations, events and logs belong to an account."""

    name = models.CharField(max_length=255, unique=True)
    # Sent by external services as CL-X-TOKEN; shown to the account's admins only.
    app_secret_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created_accounts",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="Membership", related_name="accounts"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            # "Acme" and "acme" would be confusing as two tenants: names are unique ignoring case.
            models.UniqueConstraint(Lower("name"), name="accounts_account_name_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(BaseModel):
    """A user's role in an account."""

    class Role(models.IntegerChoices):
        ADMIN = 1, "Admin"
        NORMAL_USER = 2, "Normal user"

        @classmethod
        def parse(cls, value) -> "Membership.Role":
            """A role from its number (1, "2") or its name, case-insensitive; ValueError otherwise."""
            if isinstance(value, bool):
                raise ValueError(value)
            if isinstance(value, int):
                return cls(value)
            if isinstance(value, str):
                text = " ".join(value.replace("_", " ").split()).lower()
                if text.isdigit():
                    return cls(int(text))
                for role in cls:
                    if role.label.lower() == text or role.name.replace("_", " ").lower() == text:
                        return role
            raise ValueError(value)

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.PositiveSmallIntegerField(choices=Role.choices, default=Role.NORMAL_USER)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="accounts_membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.account} ({self.get_role_display()})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN
