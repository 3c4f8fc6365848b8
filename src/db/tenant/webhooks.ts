import { and, desc, eq, gt, isNull, lt, lte, or, sql } from "drizzle-orm";
import { integer, sqliteTable, text, type SQLiteUpdateSetSource } from "drizzle-orm/sqlite-core";
import type { TenantDb } from "../client";
import { outboxInsert, type DomainEvent } from "./outbox";

/** drizzle view of the webhook tables (DDL: migrations/tenant/0009_webhooks.sql). */
export const webhookEndpoints = sqliteTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  url: text("url").notNull(),
  description: text("description").notNull(),
  eventTypes: text("event_types").notNull(),
  status: text("status", { enum: ["enabled", "disabled"] }).notNull(),
  disabledReason: text("disabled_reason"),
  disabledAt: integer("disabled_at"),
  maxAttempts: integer("max_attempts").notNull(),
  consecutiveFailures: integer("consecutive_failures").notNull(),
  failingSince: integer("failing_since"),
  lastSuccessAt: integer("last_success_at"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});
export type WebhookEndpointRow = typeof webhookEndpoints.$inferSelect;

export const webhookSecrets = sqliteTable("webhook_secrets", {
  id: text("id").primaryKey(),
  endpointId: text("endpoint_id").notNull(),
  sealed: text("sealed").notNull(),
  createdAt: integer("created_at").notNull(),
  expiresAt: integer("expires_at"),
});
export type WebhookSecretRow = typeof webhookSecrets.$inferSelect;

export async function findEndpoint(db: TenantDb, id: string): Promise<WebhookEndpointRow | undefined> {
  return db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, id)).get();
}

/** Newest first; `before` is the previous page's last id. */
export async function listEndpoints(
  db: TenantDb,
  q: { before?: string | undefined; limit: number },
): Promise<WebhookEndpointRow[]> {
  return db
    .select()
    .from(webhookEndpoints)
    .where(q.before ? lt(webhookEndpoints.id, q.before) : undefined)
    .orderBy(desc(webhookEndpoints.id))
    .limit(q.limit)
    .all();
}

/** The endpoints events are sent to (a tenant has at most a few dozen). */
export async function enabledEndpoints(db: TenantDb): Promise<WebhookEndpointRow[]> {
  return db.select().from(webhookEndpoints).where(eq(webhookEndpoints.status, "enabled")).all();
}

/**
 * Creates an endpoint and its first secret in one transaction, unless the tenant already has
 * `max` endpoints; false then, and nothing is written. The count and the insert are one
 * statement, so parallel creations cannot all see room for one more (a count read first and an
 * insert after would let a burst through); the secret is written only if its endpoint was.
 */
export async function insertEndpointWithin(
  db: TenantDb,
  max: number,
  row: WebhookEndpointRow,
  secret: WebhookSecretRow,
): Promise<boolean> {
  const [endpoint] = await db.batch([
    db.run(sql`INSERT INTO webhook_endpoints (id, url, description, event_types, status, disabled_reason, disabled_at, max_attempts, consecutive_failures, failing_since, last_success_at, created_at, updated_at)
      SELECT ${row.id}, ${row.url}, ${row.description}, ${row.eventTypes}, ${row.status}, ${row.disabledReason}, ${row.disabledAt}, ${row.maxAttempts}, ${row.consecutiveFailures}, ${row.failingSince}, ${row.lastSuccessAt}, ${row.createdAt}, ${row.updatedAt}
      WHERE (SELECT count(*) FROM webhook_endpoints) < ${max}`),
    db.run(sql`INSERT INTO webhook_secrets (id, endpoint_id, sealed, created_at, expires_at)
      SELECT ${secret.id}, ${secret.endpointId}, ${secret.sealed}, ${secret.createdAt}, ${secret.expiresAt}
      WHERE EXISTS (SELECT 1 FROM webhook_endpoints WHERE id = ${row.id})`),
  ]);
  return endpoint.rowsAffected === 1;
}

export type EndpointPatch = Partial<Pick<WebhookEndpointRow, "url" | "description" | "eventTypes" | "maxAttempts">> & {
  enabled?: boolean | undefined;
};

/**
 * Applies a patch. Enabling (again) clears the failure run and the disabled reason; disabling
 * by hand records the reason "disabled by an administrator".
 */
export async function updateEndpoint(
  db: TenantDb,
  id: string,
  patch: EndpointPatch,
  now = Date.now(),
): Promise<WebhookEndpointRow | undefined> {
  const { enabled, ...fields } = patch;
  const set: SQLiteUpdateSetSource<typeof webhookEndpoints> = { ...fields, updatedAt: now };
  if (enabled === true)
    Object.assign(set, {
      status: "enabled",
      disabledReason: null,
      disabledAt: null,
      consecutiveFailures: 0,
      failingSince: null,
    });
  if (enabled === false) {
    // Disabling an endpoint that is already disabled keeps its original reason and time.
    const was = (
      enabledValue: string | number,
      otherwise: typeof webhookEndpoints.disabledReason | typeof webhookEndpoints.disabledAt,
    ) => sql`CASE WHEN ${webhookEndpoints.status} = 'enabled' THEN ${enabledValue} ELSE ${otherwise} END`;
    Object.assign(set, {
      status: "disabled",
      disabledReason: was("disabled by an administrator", webhookEndpoints.disabledReason),
      disabledAt: was(now, webhookEndpoints.disabledAt),
    });
  }
  return db.update(webhookEndpoints).set(set).where(eq(webhookEndpoints.id, id)).returning().get();
}

/** Deletes an endpoint with its secrets, deliveries and their attempts. False when it did not exist. */
export async function deleteEndpoint(db: TenantDb, id: string): Promise<boolean> {
  const [res] = await db.batch([
    db.delete(webhookEndpoints).where(eq(webhookEndpoints.id, id)),
    db.delete(webhookSecrets).where(eq(webhookSecrets.endpointId, id)),
    db.run(
      sql`DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM webhook_deliveries WHERE endpoint_id = ${id})`,
    ),
    db.run(sql`DELETE FROM webhook_deliveries WHERE endpoint_id = ${id}`),
  ]);
  return res.rowsAffected > 0;
}

/** The secrets that sign at `now`: the current one first, then previous ones still in their overlap. */
export async function signingSecrets(db: TenantDb, endpointId: string, now: number): Promise<WebhookSecretRow[]> {
  return db
    .select()
    .from(webhookSecrets)
    .where(
      and(
        eq(webhookSecrets.endpointId, endpointId),
        or(isNull(webhookSecrets.expiresAt), gt(webhookSecrets.expiresAt, now)),
      ),
    )
    .orderBy(desc(webhookSecrets.createdAt), desc(webhookSecrets.id))
    .all();
}

/**
 * Makes `secret` the current one. Every secret still signing keeps signing until `overlapUntil`
 * at the latest (never longer than it already would), so a rotation with no overlap stops all
 * previous secrets at once. Expired secrets are dropped.
 */
export async function rotateSecret(
  db: TenantDb,
  secret: WebhookSecretRow,
  overlapUntil: number,
  now = Date.now(),
): Promise<void> {
  const endpoint = eq(webhookSecrets.endpointId, secret.endpointId);
  await db.batch([
    db.delete(webhookSecrets).where(and(endpoint, lte(webhookSecrets.expiresAt, now))),
    db
      .update(webhookSecrets)
      .set({ expiresAt: sql`min(coalesce(${webhookSecrets.expiresAt}, ${overlapUntil}), ${overlapUntil})` })
      .where(endpoint),
    db.insert(webhookSecrets).values(secret),
  ]);
}

/** When the newest previous secret stops signing (null when only the current one signs). */
export function overlapEnd(secrets: WebhookSecretRow[]): number | null {
  const ends = secrets.map((s) => s.expiresAt).filter((t): t is number => t !== null);
  return ends.length ? Math.max(...ends) : null;
}

/** After a successful attempt: the failure run is over. */
export function endpointSucceeded(db: TenantDb, id: string, now: number) {
  return db
    .update(webhookEndpoints)
    .set({ consecutiveFailures: 0, failingSince: null, lastSuccessAt: now })
    .where(eq(webhookEndpoints.id, id));
}

/** After a failed attempt: the run grows by one; answers the run as it now is. */
export function endpointFailed(db: TenantDb, id: string, now: number) {
  return db
    .update(webhookEndpoints)
    .set({
      consecutiveFailures: sql`${webhookEndpoints.consecutiveFailures} + 1`,
      failingSince: sql`coalesce(${webhookEndpoints.failingSince}, ${now})`,
    })
    .where(eq(webhookEndpoints.id, id))
    .returning({
      consecutiveFailures: webhookEndpoints.consecutiveFailures,
      failingSince: webhookEndpoints.failingSince,
      status: webhookEndpoints.status,
    });
}

/**
 * Disables an enabled endpoint and writes the `webhook.disabled` event in the same transaction,
 * so the notice exists exactly when the endpoint was disabled, once even if two attempts
 * decide to disable it at the same moment. False when it was not enabled any more.
 */
export async function disableEndpoint(
  db: TenantDb,
  id: string,
  reason: string,
  event: DomainEvent,
  now = Date.now(),
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const res = await tx
      .update(webhookEndpoints)
      .set({ status: "disabled", disabledReason: reason, disabledAt: now, updatedAt: now })
      .where(and(eq(webhookEndpoints.id, id), eq(webhookEndpoints.status, "enabled")))
      .run();
    if (res.rowsAffected === 0) return false;
    await outboxInsert(tx as unknown as TenantDb, event, now).run();
    return true;
  });
}
