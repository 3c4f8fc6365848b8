import { newId } from "../../lib/ids";
import type { TenantDb } from "../client";
import { outbox } from "./schema";

/** A domain event as written to the outbox; published as a CloudEvent by the event pipeline. */
export interface DomainEvent {
  type: string;
  subject?: string;
  data: Record<string, unknown>;
  traceparent?: string | undefined;
}

/**
 * The INSERT for one outbox row, to be put in the same batch/transaction as the change it
 * describes, so the event exists if and only if the change committed.
 */
export function outboxInsert(db: TenantDb, e: DomainEvent, now = Date.now()) {
  return db.insert(outbox).values({
    id: newId(now),
    type: e.type,
    subject: e.subject ?? null,
    data: JSON.stringify(e.data),
    traceparent: e.traceparent ?? null,
    createdAt: now,
  });
}
