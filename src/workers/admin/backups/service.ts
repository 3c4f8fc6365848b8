import type { PlatformDb } from "../../../db/client";
import {
  deleteBackupRow,
  findBackup,
  findRestore,
  insertBackupIfIdle,
  insertRestore,
  listBackups,
} from "../../../db/platform/backups";
import type { BackupRow, RestoreRow, TenantRow } from "../../../db/platform/schema";
import { provisionerFor } from "../../../db/provisioner";
import type { Pager } from "../../../lib/cursor";
import { AppError } from "../../../lib/errors";
import { newId } from "../../../lib/ids";
import { toCloudEvent } from "../../../lib/events";
import { tenantConfigSchema } from "../../../lib/tenant-config";
import { iso, isoOrNull } from "../../../lib/time";
import { reserveTenant } from "../../tenancy/provision";
import { backupPrefix, readManifest } from "./archive";
import type { BackupView, RestoreView } from "./schemas";

export const BACKUP_REQUESTED = "backup.requested";
export const RESTORE_REQUESTED = "restore.requested";

/** A backup still `running` after this long is taken as dead (its Worker was stopped): another may start. */
export const BACKUP_STALE_MS = 3_600_000;

export function toBackupView(row: BackupRow, slug: string): BackupView {
  return {
    id: row.id,
    tenant: slug,
    status: row.status,
    trigger: row.trigger,
    schemaVersion: row.schemaVersion,
    parts: row.parts,
    rows: row.rows,
    bytes: row.bytes,
    error: row.error,
    createdAt: iso(row.createdAt),
    finishedAt: isoOrNull(row.finishedAt),
  };
}

export function toRestoreView(row: RestoreRow): RestoreView {
  return {
    id: row.id,
    backupId: row.backupId,
    intoSlug: row.intoSlug,
    status: row.status,
    rows: row.rows,
    objects: row.objects,
    error: row.error,
    createdAt: iso(row.createdAt),
    finishedAt: isoOrNull(row.finishedAt),
  };
}

/** Queues a platform event (the statistics queue's batches suit bulk copying). */
async function enqueue(env: Env, tenantId: string, type: string, data: Record<string, string>): Promise<void> {
  const now = Date.now();
  await env.STATISTICS_QUEUE.send(
    toCloudEvent(tenantId, "/platform/backups", { id: newId(now), type, subject: tenantId, data, time: now }),
    { contentType: "json" },
  );
}

/** Starts a backup of the tenant (one at a time: 409 backup_running while another runs). */
export async function startBackup(
  env: Env,
  db: PlatformDb,
  tenant: TenantRow,
  trigger: BackupRow["trigger"],
  now = Date.now(),
): Promise<BackupRow> {
  const row: BackupRow = {
    id: newId(now),
    tenantId: tenant.id,
    status: "running",
    trigger,
    schemaVersion: null,
    parts: 0,
    rows: 0,
    bytes: 0,
    error: null,
    createdAt: now,
    finishedAt: null,
  };
  if (!(await insertBackupIfIdle(db, row, now - BACKUP_STALE_MS)))
    throw new AppError("backup_running", "A backup of this tenant is already running.");
  await enqueue(env, tenant.id, BACKUP_REQUESTED, { backupId: row.id });
  return row;
}

export async function backupsPage(
  db: PlatformDb,
  tenant: TenantRow,
  pg: Pager<"id">,
  q: { limit: number; cursor?: string | undefined },
) {
  const before = (await pg.after(q.cursor))?.[0];
  const rows = await listBackups(db, tenant.id, { limit: q.limit + 1, before });
  const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
  return { items: page.map((r) => toBackupView(r, tenant.slug)), nextCursor };
}

/** A backup of this tenant (another tenant's id is not found: no existence leak across tenants). */
export async function backupOf(db: PlatformDb, tenant: TenantRow, backupId: string): Promise<BackupRow> {
  const row = await findBackup(db, backupId);
  if (!row || row.tenantId !== tenant.id)
    throw new AppError("backup_not_found", `No backup '${backupId}' of tenant '${tenant.slug}'.`);
  return row;
}

/** Deletes a backup's objects in R2, then its row (a running one cannot be deleted). */
export async function deleteBackup(env: Env, db: PlatformDb, row: BackupRow, now = Date.now()): Promise<void> {
  if (row.status === "running" && now - row.createdAt < BACKUP_STALE_MS)
    throw new AppError("backup_running", "The backup is still running; delete it once it ends.");
  await deleteByPrefix(env.BACKUPS, `${backupPrefix(row.tenantId, row.id)}/`);
  await deleteBackupRow(db, row.id);
}

export async function deleteByPrefix(bucket: R2Bucket, prefix: string): Promise<void> {
  for (let cursor: string | undefined; ; ) {
    const page = await bucket.list({ prefix, cursor });
    if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key));
    if (!page.truncated) return;
    cursor = page.cursor;
  }
}

/**
 * Starts a restore of a finished backup into a new tenant: the manifest is read first (a
 * corrupt or unknown one is refused now, 422), then `intoSlug` is reserved like a tenant being
 * created (409 tenant_exists when taken), with the name, plan and config the backup recorded.
 */
export async function startRestore(
  env: Env,
  db: PlatformDb,
  source: TenantRow,
  input: { backupId: string; intoSlug: string },
): Promise<RestoreRow> {
  const backup = await backupOf(db, source, input.backupId);
  if (backup.status !== "done") throw new AppError("backup_not_ready", `The backup is ${backup.status}.`);
  const m = await readManifest(env.BACKUPS, backupPrefix(source.id, backup.id));
  const config = tenantConfigSchema().safeParse(m.tenant.config);
  if (!config.success) throw new AppError("backup_corrupt", "The backup's tenant config is not valid.");
  const into = await reserveTenant(db, provisionerFor(env), {
    slug: input.intoSlug,
    name: m.tenant.name,
    plan: m.tenant.plan,
    config: config.data,
  });
  const now = Date.now();
  const row: RestoreRow = {
    id: newId(now),
    backupId: backup.id,
    sourceTenantId: source.id,
    intoTenantId: into.id,
    intoSlug: into.slug,
    status: "running",
    rows: 0,
    objects: 0,
    error: null,
    createdAt: now,
    finishedAt: null,
  };
  await insertRestore(db, row);
  await enqueue(env, into.id, RESTORE_REQUESTED, { restoreId: row.id });
  return row;
}

export async function getRestore(db: PlatformDb, id: string): Promise<RestoreRow> {
  const row = await findRestore(db, id);
  if (!row) throw new AppError("restore_not_found", `No restore '${id}'.`);
  return row;
}
