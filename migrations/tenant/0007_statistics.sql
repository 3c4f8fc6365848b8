-- Statistics: daily rollups written by the statistics queue consumer (src/workers/statistics/).
-- Days are UTC calendar days ('YYYY-MM-DD') of the event's own time, not of its processing, so a
-- late redelivery lands on the day it happened. Each event is applied once (processed_events).

-- One counter per (day, metric): registrations, logins, messages, connections_opened,
-- connections_closed, files_uploaded, files_deleted, bytes_uploaded, bytes_deleted,
-- users_deleted. Gauges (files stored, active connections, users) are running sums of the
-- matching in/out counters up to a day, so they can be read as of any day.
CREATE TABLE stats_daily (
  day TEXT NOT NULL,
  metric TEXT NOT NULL,
  value INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (day, metric)
) WITHOUT ROWID;
-- Running sums of one metric over all days (the gauges) read this index, not the whole table.
CREATE INDEX stats_daily_metric ON stats_daily (metric, day);

-- Users active on a day (signed in, refreshed a session, opened a socket, wrote to a
-- conversation): one row per user and day, so DAU/WAU/MAU and "active users in a period" are
-- exact distinct counts, however many events a user caused.
CREATE TABLE active_users (
  day TEXT NOT NULL,
  user_id TEXT NOT NULL,
  PRIMARY KEY (day, user_id)
) WITHOUT ROWID;
