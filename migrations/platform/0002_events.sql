-- Dead letters: events a consumer could not process (invalid, poison, or out of retries),
-- kept for the platform admin to inspect and replay. `id` is the dead-letter queue's message id,
-- so a redelivered dead letter is stored once.
CREATE TABLE dead_letters (
  id TEXT PRIMARY KEY,
  -- The queue the event failed on; NULL when the queue moved it after its last retry
  -- (the message does not say which queue it came from; replay routes it by type).
  queue TEXT,
  reason TEXT NOT NULL,
  event_id TEXT,
  event_type TEXT,
  tenant_id TEXT,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  replayed_at INTEGER,
  replay_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX dead_letters_pending ON dead_letters (replayed_at, id);
CREATE INDEX dead_letters_tenant ON dead_letters (tenant_id, id);

-- Per-queue consumer figures, updated once per batch: what was processed, retried and
-- dead-lettered, and how far behind the consumer runs (event time to processing).
CREATE TABLE queue_stats (
  queue TEXT PRIMARY KEY,
  processed INTEGER NOT NULL DEFAULT 0,
  retried INTEGER NOT NULL DEFAULT 0,
  dead_lettered INTEGER NOT NULL DEFAULT 0,
  last_batch_at INTEGER,
  last_batch_size INTEGER,
  -- Lag of the oldest event in the last batch, milliseconds.
  last_lag_ms INTEGER,
  -- Highest lag ever seen (compare with last_lag_ms to tell a spike from a backlog).
  max_lag_ms INTEGER NOT NULL DEFAULT 0
);
