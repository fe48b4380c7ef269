"""Database helpers shared by the apps."""

from typing import TypeVar

from django.db import connection
from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def skip_locked(queryset: QuerySet[M]) -> QuerySet[M]:
    """`SELECT ... FOR UPDATE SKIP LOCKED` where the database has it (PostgreSQL): concurrent
    claimers take different rows. SQLite has no row locks (its writers are serialised): callers
    re-check their conditions in the UPDATE that claims the rows."""
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True)
    return queryset
