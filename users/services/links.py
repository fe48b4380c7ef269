"""Single-use, expiring links mailed to a user (email confirmation, password reset): only a
hash of the token is stored, and one conditional UPDATE claims it.
"""

import hashlib
from datetime import datetime
from typing import Any

from users.models import EmailConfirmationToken, PasswordResetToken, User

LINK_INVALID = "This link is invalid, has expired or was already used."


def token_hash(raw: str) -> str:
    # The token carries 256 random bits, so a plain SHA-256 is enough to keep the table useless.
    return hashlib.sha256(raw.encode()).hexdigest()


def _hours(seconds: int) -> int:
    return max(1, round(seconds / 3600))


def token_claim(
    model: type[EmailConfirmationToken] | type[PasswordResetToken],
    row: EmailConfirmationToken | PasswordResetToken,
    *,
    now: datetime,
) -> bool:
    """Marks the token used if it still is usable: only one caller can win this UPDATE."""
    return bool(
        model.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(
            used_at=now
        )
    )


def mail_context(*, user: User, raw: str, url_template: str, timeout: int) -> dict[str, Any]:
    return {
        "to": user.email,
        "user_id": str(user.pk),
        "username": user.get_short_name(),
        "email": user.email,
        "token": raw,
        "link": url_template.format(token=raw),
        "valid_hours": _hours(timeout),
    }
