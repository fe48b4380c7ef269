"""Pre-registration: email collection, idempotent per address."""

from django.db import IntegrityError, transaction

from users.models import PreRegistration, User


@transaction.atomic
def pre_registration_create(*, email: str) -> PreRegistration:
    """Keeps an email for later; the same address (in any case) is stored once."""
    email = User.objects.normalize_email(email).strip()
    existing = PreRegistration.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing
    row = PreRegistration(email=email)
    row.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:  # the same address arrived concurrently
        return PreRegistration.objects.get(email__iexact=email)
    return row
