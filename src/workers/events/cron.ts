import { platformDb } from "../../db/client";
import { sweepIdempotencyKeys } from "../../db/platform/idempotency";
import { allMigratableTenants } from "../../db/platform/tenants";
import { tenantDb } from "../../db/tenant-db";
import { prunePublished } from "../../db/tenant/outbox";
import { pruneProcessed } from "../../db/tenant/processed";
import { pruneConsumedTokens } from "../../db/tenant/single-use";
import { log } from "../../lib/log";
import type { TenantScope } from "../gateway/context";
import { publishTenantOutbox } from "./outbox-publisher";
import { resolveTenantById } from "../tenancy/tenant-cache";

/** Rows younger than this are left to the request that wrote them (it publishes right after). */
export const SWEEP_MIN_AGE_MS = 10_000;
const KEEP_PUBLISHED_MS = 7 * 86_400_000;
const KEEP_PROCESSED_MS = 30 * 86_400_000;
const CONCURRENCY = 8;

/**
 * Per-tenant work of the minute cron (services declare theirs in their modules: webhook retries,
 * …). Every sweep of one tenant's visit shares one database handle.
 */
export type TenantSweep = (s: TenantScope, now: number) => Promise<Record<string, number>>;

const coreSweeps: TenantSweep[] = [
  async ({ env, tenant, db }, now) => ({
    outboxRepublished: await publishTenantOutbox(env, tenant, db, now, SWEEP_MIN_AGE_MS),
  }),
  async ({ db }, now): Promise<Record<string, number>> => {
    // Pruning is hourly: the minute cron only needs to catch unpublished events.
    if (new Date(now).getUTCMinutes() !== 0) return {};
    return {
      outboxPruned: await prunePublished(db, now - KEEP_PUBLISHED_MS),
      markersPruned: await pruneProcessed(db, now - KEEP_PROCESSED_MS),
      consumedTokensPruned: await pruneConsumedTokens(db, now),
    };
  },
];

/**
 * The minute cron: housekeeping that must not depend on traffic. For every tenant with a
 * database it republishes outbox rows a crash or a queue outage left unpublished, then runs the
 * other sweeps; tenants are visited a few at a time and one failing tenant does not stop the rest.
 */
export async function runCron(env: Env, extra: TenantSweep[] = [], now = Date.now()): Promise<Record<string, number>> {
  const sweeps = [...coreSweeps, ...extra];
  const db = platformDb(env);
  const totals: Record<string, number> = {
    idempotencyKeysSwept: await sweepIdempotencyKeys(db, now),
    tenantsFailed: 0,
  };
  const rows = (await allMigratableTenants(db)).filter((r) => r.status === "active" || r.status === "suspended");
  const queue = [...rows];
  const worker = async () => {
    for (let row = queue.shift(); row; row = queue.shift()) {
      try {
        const tenant = await resolveTenantById(env, () => db, row.id, now);
        if (!tenant) continue;
        const scope: TenantScope = { env, tenant, db: tenantDb(tenant.db) };
        for (const sweep of sweeps) {
          for (const [k, v] of Object.entries(await sweep(scope, now))) totals[k] = (totals[k] ?? 0) + v;
        }
      } catch (err) {
        totals.tenantsFailed = (totals.tenantsFailed ?? 0) + 1;
        log("warn", "cron: tenant sweep failed", { tenantId: row.id, error: String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (Object.entries(totals).some(([, v]) => v > 0)) log("info", "cron", totals);
  return totals;
}
