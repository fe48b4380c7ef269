"""What the ingest hot path needs to know of an API key, in one cache round trip.

The entry is named after the hash of the key as sent (the current key, or a regenerated key's
previous value within its grace period) and holds a snapshot: the key's id, owner, account,
scopes, state and expiry, whether its owner is active and still a member of its account. A miss
reads the database (the same rows `ApiKeyAuthentication` reads) and stores the snapshot with
`add`. Whatever changes one of those facts marks the key's entries on commit (see
backend/common/fact_cache.py): the key itself (saved, regenerated, revoked, deleted), its owner's
`is_active`, the owner's membership of the key's account. Unknown keys are never cached.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from accounts.models import Membership
from backend.common import fact_cache
from endpoints.models import ApiKey, hash_api_key


@dataclass(frozen=True)
class ApiKeySnapshot:
    id: str
    user_id: str
    account_id: int | None
    scopes: list[str]
    rate_limit: str
    is_active: bool
    expires_at: float | None  # epoch seconds
    last_used_at: float | None
    user_is_active: bool
    owner_is_member: bool  # of `account_id`; False for a key bound to no account
    grace_until: float | None  # set when the key sent is a regenerated key's previous value

    def api_key(self) -> ApiKey:
        """An unsaved `ApiKey` carrying the snapshot (no query; `.user` is not loaded)."""
        return ApiKey(
            id=self.id,
            user_id=self.user_id,
            account_id=self.account_id,
            scopes=list(self.scopes),
            rate_limit=self.rate_limit,
            is_active=self.is_active,
            expires_at=_datetime(self.expires_at),
            last_used_at=_datetime(self.last_used_at),
        )

    def usable_now(self) -> bool:
        """False once the grace period of a regenerated key's previous value is over."""
        return self.grace_until is None or self.grace_until > datetime.now(UTC).timestamp()


def _datetime(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, tz=UTC) if epoch is not None else None


def _epoch(value: datetime | None) -> float | None:
    return value.timestamp() if value is not None else None


def snapshot_key(key_hash: str) -> str:
    return f"endpoints:api-key:{key_hash}"


def snapshot_key_for_raw(raw: str) -> str:
    return snapshot_key(hash_api_key(raw))


def snapshot_given(raw: str, found: dict | None) -> ApiKeySnapshot | None:
    """From `found` (a `get_many` that held `snapshot_key_for_raw(raw)`; None = cache
    unreachable), else from the database; None for an unknown key."""
    key = snapshot_key_for_raw(raw)
    cached = fact_cache.found_value(found, key)
    if cached is not None:
        snapshot = ApiKeySnapshot(**cached)
        return snapshot if snapshot.usable_now() else None
    api_key = ApiKey.objects.for_key(raw)
    if api_key is None:
        return None
    grace_until = None
    if api_key.key_hash != hash_api_key(raw):  # matched the previous value
        grace_until = _epoch(api_key.previous_expires_at)
    owner_is_member = (
        api_key.account_id is not None
        and Membership.objects.filter(
            account_id=api_key.account_id, user_id=api_key.user_id
        ).exists()
    )
    snapshot = ApiKeySnapshot(
        id=str(api_key.pk),
        user_id=str(api_key.user_id),
        account_id=api_key.account_id,
        scopes=list(api_key.scopes or []),
        rate_limit=api_key.rate_limit,
        is_active=api_key.is_active,
        expires_at=_epoch(api_key.expires_at),
        last_used_at=_epoch(api_key.last_used_at),
        user_is_active=api_key.user.is_active,
        owner_is_member=owner_is_member,
        grace_until=grace_until,
    )
    fact_cache.store(key, asdict(snapshot), found)
    return snapshot


def _hashes(rows) -> list[str]:
    keys = []
    for key_hash, previous_key_hash in rows:
        keys.append(snapshot_key(key_hash))
        if previous_key_hash:
            keys.append(snapshot_key(previous_key_hash))
    return keys


def api_key_changed(*, hashes: list[tuple[str, str]]) -> None:
    fact_cache.mark_changed(_hashes(hashes))


def api_keys_of_owner_changed(
    *, user_id, account_id: int | None = None, restrictive: bool = True
) -> None:
    """Every key of the user (or only those bound to `account_id`): marked when the change takes
    a right away (the owner deactivated or removed), dropped when it can only grant."""
    keys = ApiKey.objects.filter(user_id=user_id)
    if account_id is not None:
        keys = keys.filter(account_id=account_id)
    names = _hashes(keys.values_list("key_hash", "previous_key_hash"))
    if restrictive:
        fact_cache.mark_changed(names)
    else:
        fact_cache.forget(names)


def stored_hashes(api_key: ApiKey) -> list[tuple[str, str]]:
    """The key's hashes as stored now (before a save replaces them), plus the instance's."""
    rows = (
        list(ApiKey.objects.filter(pk=api_key.pk).values_list("key_hash", "previous_key_hash"))
        if api_key.pk
        else []
    )
    return [*rows, (api_key.key_hash, api_key.previous_key_hash)]
