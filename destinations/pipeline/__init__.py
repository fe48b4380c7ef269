"""The path of an event, one module per step (the app's resource modules are its front rooms).

1. `ingest`: the request stores the event (one INSERT; its trigger NOTIFYs the engines).
2. `fanout`: a waiting event becomes one log per subscribed destination (`event_types`, `rules`).
3. `claims`: an engine takes due logs, fairly, within caps, rate limits, FIFO and the `breaker`
   (`claim_sql` on PostgreSQL, `claim_orm` on SQLite); leases renewed while calls are in flight.
4. `calls`: the claimed jobs in flight on the engine's asyncio loop; `transports`: the signed
   (`signing`, `payloads`) HTTP request; `resolver` + `ssrf`: the SSRF guard at connect time.
5. `outcomes`: results classified and recorded in batches (`outcome_writes`); the `breaker`
   learns from them.
6. `engine`: the loop in each worker process that turns 2-5, woken by `wakeup` (NOTIFY, the
   next due time); `outage`: a database outage logged once.
7. `retention`: finished events leave after `EVENT_RETENTION_DAYS`.

`tracing`: the ingest request's trace context, stored on the event, parents each attempt's span
and `traceparent` header (nothing at all unless `OTEL_EXPORTER_OTLP_ENDPOINT` is set).
"""
