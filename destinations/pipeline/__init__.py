"""The path of an event, one module per step (the app's resource modules are its front rooms).

1. `ingest`: the request stores the event (one INSERT), nothing else.
2. `fanout`: a waiting event becomes one log per subscribed destination (`event_types`, `rules`).
3. `claims`: an engine takes due logs, fairly, within caps, rate limits, FIFO and the `breaker`.
4. `transports`: the signed (`signing`, `payloads`) HTTP call through the SSRF guard (`ssrf`).
5. `outcomes`: attempts and statuses recorded in batches; the `breaker` learns from them.
6. `engine`: the loop in each worker process that turns 2-5.
7. `retention`: finished events leave after `EVENT_RETENTION_DAYS`.
"""
