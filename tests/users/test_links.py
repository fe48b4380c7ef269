"""Single-use mail links (users.services.links): stored as a hash, claimed once, never late."""

from datetime import timedelta

import pytest
from django.utils import timezone

from users.models import PasswordResetToken
from users.services.links import mail_context, token_claim, token_hash

pytestmark = pytest.mark.django_db


def reset_token(user, raw: str, *, expires_in: timedelta) -> PasswordResetToken:
    return PasswordResetToken.objects.create(
        user=user, token_hash=token_hash(raw), expires_at=timezone.now() + expires_in
    )


def test_it_stores_a_hash_that_is_not_the_token():
    assert token_hash("raw-token") != "raw-token"
    assert token_hash("raw-token") == token_hash("raw-token")
    assert len(token_hash("raw-token")) == 64


def test_it_claims_a_token_only_once(user):
    row = reset_token(user, "once", expires_in=timedelta(hours=1))
    now = timezone.now()
    assert token_claim(PasswordResetToken, row, now=now) is True
    assert token_claim(PasswordResetToken, row, now=now) is False
    row.refresh_from_db()
    assert row.used_at == now


def test_it_never_claims_an_expired_token(user):
    row = reset_token(user, "late", expires_in=timedelta(seconds=-1))
    assert token_claim(PasswordResetToken, row, now=timezone.now()) is False
    row.refresh_from_db()
    assert row.used_at is None


def test_it_fills_the_link_and_rounds_validity_to_whole_hours(user):
    context = mail_context(
        user=user, raw="abc", url_template="https://app.test/confirm?t={token}", timeout=5400
    )
    assert context["link"] == "https://app.test/confirm?t=abc"
    assert context["to"] == user.email
    assert context["valid_hours"] == 2
    short = mail_context(user=user, raw="abc", url_template="{token}", timeout=60)
    assert short["valid_hours"] == 1
