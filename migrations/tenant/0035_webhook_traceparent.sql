-- Traces (docs/operations.md): a webhook delivery keeps the W3C traceparent of the event it
-- carries, so every attempt (the first, inline, and the sweep's retries) continues that trace
-- and sends it to the receiver in the `traceparent` header.
ALTER TABLE webhook_deliveries ADD COLUMN traceparent TEXT;
