"""Credits: grant and spend, atomic, idempotent per reference, never negative."""

import uuid

from django.db import IntegrityError, transaction
from django.db.models import F
from rest_framework import exceptions

from backend.common.exceptions import Conflict
from users.exceptions import InsufficientCredits
from users.models import CreditTransaction, User

CREDITS_MAX_AMOUNT = 1_000_000_000


def _check_amount(amount: int) -> None:
    if (
        isinstance(amount, bool)
        or not isinstance(amount, int)
        or not 0 < amount <= CREDITS_MAX_AMOUNT
    ):
        raise exceptions.ValidationError(
            {"amount": [f"Enter a whole number between 1 and {CREDITS_MAX_AMOUNT}."]}
        )


def _balance(user_id: uuid.UUID) -> int:
    return User.objects.filter(pk=user_id).values_list("credits", flat=True).get()


def _existing_transaction(*, user: User, reference: str, amount: int) -> CreditTransaction | None:
    existing = CreditTransaction.objects.filter(user=user, reference=reference).first()
    if existing is not None and existing.amount != amount:
        raise Conflict(
            "This reference was already used for another credit transaction.",
            extra={"reference": ["Already used with a different amount."]},
        )
    return existing


def _credits_apply(
    *, user: User, amount: int, reason: str, reference: str | None
) -> CreditTransaction:
    """Adds `amount` (negative: spends) with one conditional UPDATE and records the transaction.

    The UPDATE is atomic in the database (`credits = credits + n`, for a debit only `WHERE
    credits >= n`), so concurrent calls never lose an update and never go below zero. A reference
    makes the call idempotent: a repeat returns the first transaction and changes nothing.
    """
    reference = (reference or "").strip()
    if reference:
        existing = _existing_transaction(user=user, reference=reference, amount=amount)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            rows = User.objects.filter(pk=user.pk)
            if amount < 0:
                rows = rows.filter(credits__gte=-amount)
            if not rows.update(credits=F("credits") + amount):
                raise InsufficientCredits(balance=_balance(user.pk), amount=-amount)
            balance = _balance(user.pk)
            record = CreditTransaction.objects.create(
                user=user, amount=amount, balance_after=balance, reason=reason, reference=reference
            )
    except IntegrityError:
        if not reference:
            raise
        # A concurrent call with the same reference won; ours was rolled back.
        existing = _existing_transaction(user=user, reference=reference, amount=amount)
        if existing is None:
            raise
        return existing
    user.credits = balance
    return record


@transaction.atomic
def credits_grant(
    *, user: User, amount: int, reason: str, reference: str | None = None
) -> CreditTransaction:
    """Adds credits (a purchase, a bonus); idempotent per `reference`."""
    _check_amount(amount)
    return _credits_apply(user=user, amount=amount, reason=reason, reference=reference)


@transaction.atomic
def credits_spend(
    *, user: User, amount: int, reason: str, reference: str | None = None
) -> CreditTransaction:
    """Debits credits, never below zero (402 when the balance is too low); idempotent per reference."""
    _check_amount(amount)
    return _credits_apply(user=user, amount=-amount, reason=reason, reference=reference)
