/**
 * One row of an outbox (tenant DB or Durable Object storage), before it becomes a CloudEvent
 * (src/lib/events.ts). A type of its own, free of the Worker's runtime types, so the database
 * layer can be used from Node (benchmarks, tools) as well.
 */
export interface OutboxEvent {
  id: string;
  type: string;
  subject?: string | null | undefined;
  data: Record<string, unknown>;
  time: number;
  traceparent?: string | null | undefined;
}
