"""Query-parameter filters whose accepted values the database accepts too (400 otherwise).

Python parses more than PostgreSQL stores: a `+20:56` offset (PostgreSQL refuses offsets past
±15:59:59), a year-9999 datetime that is year 10000 in UTC, an id past bigint, a NUL byte in a
string. Each of these reached the query and answered 500; these fields refuse them up front.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import models
from django_filters.fields import IsoDateTimeField
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request

# Real-world UTC offsets run from -12:00 to +14:00; PostgreSQL refuses past ±15:59:59.
MAX_UTC_OFFSET = timedelta(hours=14)
BIGINT_MAX = 2**63 - 1
INT_MAX = 2**31 - 1
DEFAULT_TEXT_MAX_LENGTH = 255


def is_database_id(value: object) -> bool:
    """Whether `value` is an integer a bigint id column can hold (a path id past it is no row)."""
    try:
        return 0 < int(str(value)) <= BIGINT_MAX
    except (TypeError, ValueError):
        return False


def validate_database_datetime(value: datetime) -> None:
    """Refuse an aware datetime whose offset or UTC value the databases cannot hold."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_UTC_OFFSET:
        raise DjangoValidationError(
            "The UTC offset must be between -14:00 and +14:00.", code="offset_range"
        )
    try:
        value.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00-05:00 is in year 10000 in UTC
        raise DjangoValidationError(
            "The date and time must lie between years 1 and 9999 in UTC.", code="year_range"
        ) from exc


class StrictIsoDateTimeField(IsoDateTimeField):
    default_validators = [validate_database_datetime]

    def to_python(self, value: Any) -> Any:
        # Python's ISO parser ignores some trailing junk (a NUL byte): refuse it explicitly.
        if isinstance(value, str):
            ProhibitNullCharactersValidator()(value)
        return super().to_python(value)


class StrictIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 datetime filter limited to what PostgreSQL and SQLite accept."""

    field_class = StrictIsoDateTimeField


class IdField(forms.IntegerField):
    """A whole number within bigint ("1.5", "1e3" and 2**63 are invalid)."""

    def __init__(
        self, *args: Any, min_value: int = 1, max_value: int = BIGINT_MAX, **kwargs: Any
    ) -> None:
        super().__init__(*args, min_value=min_value, max_value=max_value, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """A positive bigint id filter (NumberFilter alone would accept decimals and any size)."""

    field_class = IdField


class TextField(forms.CharField):
    """A string without NUL bytes (PostgreSQL refuses them) and at most `max_length` long."""

    def __init__(
        self, *args: Any, max_length: int = DEFAULT_TEXT_MAX_LENGTH, **kwargs: Any
    ) -> None:
        super().__init__(*args, max_length=max_length, **kwargs)


class TextFilter(django_filters.CharFilter):
    field_class = TextField


class StrictFilterSet(django_filters.FilterSet):
    """A FilterSet whose generated filters use the strict fields above."""

    FILTER_DEFAULTS = {
        **django_filters.FilterSet.FILTER_DEFAULTS,
        models.DateTimeField: {"filter_class": StrictIsoDateTimeFilter},
        models.AutoField: {"filter_class": IdFilter},
        models.BigAutoField: {"filter_class": IdFilter},
        models.CharField: {"filter_class": TextFilter},
        models.TextField: {"filter_class": TextFilter},
    }


def query_text(
    request: Request, name: str, max_length: int = DEFAULT_TEXT_MAX_LENGTH
) -> str | None:
    """A query parameter parsed by hand, checked like `TextField` (a 400 naming it otherwise)."""
    value: str | None = request.query_params.get(name)
    if value is None:
        return None
    errors = []
    try:
        ProhibitNullCharactersValidator()(value)
    except DjangoValidationError as exc:
        errors.extend(exc.messages)
    if len(value) > max_length:
        errors.append(f"Ensure this value has at most {max_length} characters.")
    if errors:
        raise ValidationError({name: errors})
    return value
