-- Event pipeline. A publisher claims unpublished outbox rows for a short lease before sending
-- them, so two publishers (the request that wrote them and the cron sweeper) rarely send the same
-- row twice; when they do, consumers drop the repeat by event id.
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER;

-- One row per (consumer, event) applied: written in the same transaction as the consumer's effect,
-- so a redelivered event is recognised and has no second effect. Swept after 30 days.
CREATE TABLE processed_events (
  consumer TEXT NOT NULL,
  event_id TEXT NOT NULL,
  processed_at INTEGER NOT NULL,
  PRIMARY KEY (consumer, event_id)
);
CREATE INDEX processed_events_age ON processed_events (processed_at);
