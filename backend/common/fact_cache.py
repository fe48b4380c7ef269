"""Yes/no facts about credentials kept in the shared cache for the ingest hot path.

A fact (a user is active, a user is a member of the account of a CL-X-TOKEN, an API key's state)
is read with the other keys of the request in one `get_many`. A miss asks the database, which
then stores its answer with `add`. A change that takes a right away (removal, deactivation,
revocation) writes `CHANGED` over the key on commit (unconditionally): for `CHANGED_SECONDS` every
process asks the database and stores nothing, so a lookup that read the database just before the
commit cannot put the old answer back (its `add` finds the key taken). A change that can only
grant (a new membership, a user activated again) deletes the key on commit: the next lookup asks
the database; a lookup racing it can at worst put back the old refusal for one entry's lifetime,
never an acceptance. The database stays the truth: a lost key costs one query, never a wrong
answer; with the cache unreachable every lookup asks the database.

What this cannot see: a change committed while the cache was unreachable, if that cache later
comes back with its data (a network split, not a restart): the old answer then lives until its
`INGEST_AUTH_CACHE_SECONDS` expire. The failure is logged as an error.
"""

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)

CHANGED = 0  # "ask the database"; stored answers are never 0 (see `stored_answer`)
# Longer than any request lives (gunicorn's WEB_TIMEOUT kills one after 30 s by default).
CHANGED_SECONDS = 120


def entry_seconds() -> int:
    return int(getattr(settings, "INGEST_AUTH_CACHE_SECONDS", 300))


def get_many(keys: Iterable[str]) -> dict[str, Any] | None:
    """The keys found, in one round trip; None when the cache is unreachable (ask the database)."""
    try:
        return cache.get_many(list(keys))
    except Exception as exc:  # noqa: BLE001 - an optimisation: the database answers instead
        logger.warning("Cache unreachable for an ingest credential check (%s).", type(exc).__name__)
        return None


def found_value(found: dict[str, Any] | None, key: str) -> Any:
    """The cached value of `key`, or None when it must be asked of the database."""
    if found is None:
        return None
    value = found.get(key)
    if value is None or value == CHANGED:
        return None
    return value


def store(key: str, value: Any, found: dict[str, Any] | None) -> None:
    """Stores the database's answer unless the key is taken (by a `CHANGED` mark, or a peer).

    Nothing is written when the cache was unreachable (`found` is None) or the key holds a mark
    (the round trip would fail anyway)."""
    if value is None or value == CHANGED or found is None or found.get(key) == CHANGED:
        return
    try:
        cache.add(key, value, timeout=entry_seconds())
    except Exception:  # noqa: BLE001
        logger.warning("Cache unreachable: an ingest credential answer was not cached.")


def mark_changed(keys: Iterable[str]) -> None:
    """Makes every process ask the database about `keys`, once the current transaction commits."""
    marks = dict.fromkeys(keys, CHANGED)
    if not marks:
        return

    def write() -> None:
        try:
            cache.set_many(marks, timeout=CHANGED_SECONDS)
        except Exception as exc:  # noqa: BLE001 - nothing else can be done now: say it loudly
            logger.error(
                "Could not mark %d cached credential answers as changed (%s): a cache that comes "
                "back with its data may keep them for up to %ss.",
                len(marks),
                type(exc).__name__,
                entry_seconds(),
            )

    transaction.on_commit(write)


def forget(keys: Iterable[str]) -> None:
    """Makes the next lookup of `keys` ask the database, once the current transaction commits
    (for changes that can only grant: see the module's docstring)."""
    names = list(keys)
    if not names:
        return

    def delete() -> None:
        try:
            cache.delete_many(names)
        except Exception as exc:  # noqa: BLE001 - the entries expire by themselves
            logger.warning("Could not drop %d cached credential answers (%s).", len(names), exc)

    transaction.on_commit(delete)
