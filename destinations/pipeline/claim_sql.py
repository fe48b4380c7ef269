"""The PostgreSQL claim: one statement, however many rows it takes.

Run after `pg_advisory_xact_lock` (see `claims`), so claims of every engine follow one another
and what one statement computes (free slots per destination, rate windows, FIFO heads) cannot be
overtaken by another engine's claim. In order:

- `flight`: unexpired claims per destination (the cap, FIFO and half-open probe count them);
- `controls`: destinations that restrict claims: a tripped breaker (open: none; half-open: one
  probe), an active FIFO (one at a time) or rate limit (what is left of the current second);
- `limits`: the free slots of every destination that is busy or restricted;
- `expired`: lease-expired logs of destinations with room, oldest first (`SKIP LOCKED`: a log
  whose outcome is being written right now is left for the next turn);
- `pending_destinations` / `due`: the destinations with pending logs (a loose index scan), and
  from each one with room its oldest due logs, as many as its free slots: the claim reads the
  rows it may take, never the backlog of a destination at its cap;
- `heads`: the oldest unfinished log of each FIFO destination with room, when it is claimable;
- `picked`: ranked per destination (`row_number`), within each destination's free slots,
  round-robin across destinations up to the batch size; `fills` marks the jobs of a destination
  whose free slots this claim takes up (their ends free a slot that may have work waiting);
- `locked`: the picked due logs, locked (`SKIP LOCKED`, as above);
- `claimed`: the UPDATE that stamps lease, token and attempt number, re-checking claimability;
- `lost`: a taken-over claim's send is recorded as an attempt of unknown outcome ("worker lost",
  at the time it was claimed), so `attempts` and the attempt rows agree;
- `rated`: the rate windows of the destinations claimed for.

It returns what the jobs need (the log, its event and its destination), so the claim is the
advisory lock plus this one statement (PostgreSQL runs the data-modifying CTEs `lost` and `rated`
whether or not the final SELECT reads them).
"""

CLAIM_SQL = """
WITH RECURSIVE flight AS (
    SELECT destination_id, count(*) AS n
    FROM destinations_deliverylog
    WHERE status = 'in_progress' AND claimed_until >= %(now)s
    GROUP BY destination_id
),
controls AS (
    SELECT id,
        breaker_trips > 0 AS tripped,
        breaker_trips > 0 AND breaker_open_until > %(now)s AS open,
        is_active AND fifo AS fifo,
        CASE WHEN is_active THEN rate_limit END AS rate_limit,
        CASE WHEN rate_window_start > %(window_start)s THEN rate_window_count ELSE 0 END AS used
    FROM destinations_destination
    WHERE breaker_trips > 0 OR (is_active AND (fifo OR rate_limit IS NOT NULL))
),
limits AS (
    SELECT ids.id, COALESCE(c.fifo, false) AS fifo,
        GREATEST(0, LEAST(
            CASE WHEN c.open THEN 0 WHEN c.tripped OR c.fifo THEN 1 ELSE %(cap)s END
                - COALESCE(f.n, 0),
            CASE WHEN c.rate_limit IS NOT NULL THEN c.rate_limit - c.used ELSE %(cap)s END
        )) AS free
    FROM (SELECT destination_id AS id FROM flight UNION SELECT id FROM controls) AS ids
    LEFT JOIN flight f ON f.destination_id = ids.id
    LEFT JOIN controls c ON c.id = ids.id
),
blocked AS (
    SELECT id FROM limits WHERE free <= 0 OR fifo
),
expired AS (
    SELECT id, destination_id, status, attempts, claimed_at, claimed_until AS due_at,
        false AS lock_when_picked
    FROM destinations_deliverylog
    WHERE status = 'in_progress' AND claimed_until < %(now)s
        AND destination_id NOT IN (SELECT id FROM blocked) {only}
    ORDER BY claimed_until
    LIMIT %(window)s
    FOR UPDATE SKIP LOCKED
),
pending_destinations AS (
    -- A loose index scan of dest_log_dest_due_idx: one probe per destination with pending logs,
    -- however long its backlog (a global oldest-first scan would walk the whole backlog of a
    -- destination at its cap only to filter it out, under the claim lock).
    (SELECT destination_id AS id FROM destinations_deliverylog
        WHERE status = 'pending' ORDER BY destination_id LIMIT 1)
    UNION ALL
    SELECT (SELECT destination_id FROM destinations_deliverylog
            WHERE status = 'pending' AND destination_id > p.id ORDER BY destination_id LIMIT 1)
    FROM pending_destinations p WHERE p.id IS NOT NULL
),
due AS (
    SELECT x.* FROM pending_destinations p
    LEFT JOIN limits l ON l.id = p.id
    CROSS JOIN LATERAL (
        SELECT id, destination_id, status, attempts, claimed_at, next_attempt_at AS due_at,
            true AS lock_when_picked
        FROM destinations_deliverylog
        -- The row comparison is what `next_attempt_at <= now` means here, written so that only
        -- dest_log_dest_due_idx can serve it: through dest_log_pending_due_idx the scan would
        -- walk every due log of every destination to find this one's.
        WHERE destination_id = p.id AND status = 'pending'
            AND (destination_id, next_attempt_at) <= (p.id, %(now)s) {only}
        ORDER BY next_attempt_at
        LIMIT LEAST(COALESCE(l.free, %(cap)s), %(limit)s)
    ) AS x
    WHERE p.id IS NOT NULL AND COALESCE(l.free, %(cap)s) > 0 AND NOT COALESCE(l.fifo, false)
),
heads AS (
    SELECT h.id, h.destination_id, h.status, h.attempts, h.claimed_at, h.received_timestamp AS due_at,
        false AS lock_when_picked
    FROM limits l
    CROSS JOIN LATERAL (
        SELECT id, destination_id, status, attempts, claimed_at, received_timestamp,
            next_attempt_at, claimed_until
        FROM destinations_deliverylog
        WHERE destination_id = l.id AND status IN ('pending', 'in_progress')
        ORDER BY received_timestamp, id
        LIMIT 1
    ) AS h
    WHERE l.fifo AND l.free > 0 {only_head}
        AND ((h.status = 'pending' AND h.next_attempt_at <= %(now)s)
            OR (h.status = 'in_progress' AND h.claimed_until < %(now)s))
),
candidates AS (
    SELECT *, row_number() OVER (PARTITION BY destination_id ORDER BY due_at, id) AS rank
    FROM (
        SELECT * FROM heads UNION ALL SELECT * FROM expired UNION ALL SELECT * FROM due
    ) AS found
),
picked AS (
    SELECT c.*,
        max(c.rank) OVER (PARTITION BY c.destination_id) >= COALESCE(l.free, %(cap)s) AS fills
    FROM candidates c
    LEFT JOIN limits l ON l.id = c.destination_id
    WHERE c.rank <= COALESCE(l.free, %(cap)s)
    ORDER BY c.rank, c.due_at, c.id
    LIMIT %(limit)s
),
locked AS (
    -- Due logs are locked once picked, not when found: a claim locks the rows it takes only.
    -- SKIP LOCKED: one that a user's change or an outcome is writing right now waits for the next
    -- turn rather than holding up every engine's claims.
    SELECT id FROM destinations_deliverylog
    WHERE id = ANY(ARRAY(SELECT id FROM picked WHERE lock_when_picked))
    FOR UPDATE SKIP LOCKED
),
claimed AS (
    UPDATE destinations_deliverylog AS log SET
        status = 'in_progress', claimed_until = %(lease_until)s, claimed_at = %(now)s,
        claim_token = %(token)s::uuid, attempts = log.attempts + 1, updated_at = %(now)s
    FROM picked p
    -- The logs are reached by id (`= ANY`), whatever the statistics say: on estimates of one
    -- row, the planner scanned every claimable log through the status indexes instead. Each one
    -- is re-checked: still claimable (a FIFO head is read without a lock), written as a CASE so
    -- that no status index matches it.
    WHERE log.id = ANY(ARRAY(
            SELECT id FROM locked UNION ALL SELECT id FROM picked WHERE NOT lock_when_picked))
        AND log.id = p.id
        AND CASE log.status WHEN 'pending' THEN log.next_attempt_at <= %(now)s
            WHEN 'in_progress' THEN log.claimed_until < %(now)s ELSE false END
    RETURNING log.id, log.destination_id, log.event_id, log.account_id, log.attempts,
        log.round_start_attempts, log.received_timestamp,
        p.status AS was_status, p.attempts AS was_attempts, p.claimed_at AS was_claimed_at,
        p.fills
),
lost AS (
    INSERT INTO destinations_deliveryattempt
        (log_id, destination_id, attempt_number, started_at, duration_ms, status_code, error,
        response_body, outcome)
    SELECT id, destination_id, was_attempts, COALESCE(was_claimed_at, %(now)s), 0, NULL, %(lost_error)s, '',
        'unknown'
    FROM claimed WHERE was_status = 'in_progress'
    RETURNING 1
),
rated AS (
    UPDATE destinations_destination AS d SET
        rate_window_start = CASE WHEN d.rate_window_start > %(window_start)s
            THEN d.rate_window_start ELSE %(now)s END,
        rate_window_count = CASE WHEN d.rate_window_start > %(window_start)s
            THEN d.rate_window_count ELSE 0 END + k.n
    FROM (SELECT destination_id, count(*) AS n FROM claimed GROUP BY destination_id) AS k
    WHERE d.id = k.destination_id AND d.is_active AND d.rate_limit IS NOT NULL
    RETURNING 1
)
SELECT c.id, c.attempts, c.round_start_attempts, c.account_id, c.received_timestamp,
    e.event_id, e.event_type, e.body,
    d.id, d.is_active, d.http_method, d.url, d.headers, d.signing_secret,
    d.previous_signing_secret, d.previous_secret_expires_at, e.traceparent, c.fills
FROM claimed c
JOIN destinations_event e ON e.id = c.event_id
JOIN destinations_destination d ON d.id = c.destination_id
ORDER BY c.id
"""

ONLY_LOGS = "AND id = ANY(%(log_ids)s)"
ONLY_HEAD = "AND h.id = ANY(%(log_ids)s)"


def claim_sql(*, only_some: bool) -> str:
    """The statement; `only_some` limits it to `log_ids` (one synchronous attempt)."""
    return CLAIM_SQL.format(
        only=ONLY_LOGS if only_some else "", only_head=ONLY_HEAD if only_some else ""
    )
