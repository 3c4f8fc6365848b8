import { platformDb } from "../../../db/client";
import { latestBackup, latestDoneBackup, scheduledBackupsBefore } from "../../../db/platform/backups";
import { findTenantById } from "../../../db/platform/tenants";
import { log } from "../../../lib/log";
import type { TenantSweep } from "../../events/cron";
import { deleteBackup, startBackup } from "./service";

const DAY_MS = 86_400_000;
/** A tenant backed up less than this long ago is not backed up again by the schedule. */
const MIN_GAP_MS = 20 * 3_600_000;
const RETENTION_BATCH = 20;

/**
 * The daily backup and its retention (tenant config `backup`), from the minute cron: at
 * `hourUtc`:00 a scheduled backup starts unless one started in the last 20 hours; every hour,
 * scheduled backups past `retentionDays` are deleted, but never the newest finished backup.
 * Manual backups stay until an operator deletes them.
 */
export const backupSweep: TenantSweep = async ({ env, tenant }, now) => {
  const at = new Date(now);
  if (at.getUTCMinutes() !== 0) return {};
  const db = platformDb(env);
  const cfg = tenant.config.backup;
  const out: Record<string, number> = { backupsStarted: 0, backupsExpired: 0 };
  if (cfg.daily && at.getUTCHours() === cfg.hourUtc) {
    const last = await latestBackup(db, tenant.id);
    const row = await findTenantById(db, tenant.id);
    if (row && (!last || now - last.createdAt >= MIN_GAP_MS)) {
      out.backupsStarted = await startBackup(env, db, row, "scheduled", now).then(
        () => 1,
        (err: unknown) => {
          log("warn", "scheduled backup not started", { tenantId: tenant.id, error: String(err) });
          return 0;
        },
      );
    }
  }
  const keep = (await latestDoneBackup(db, tenant.id))?.id;
  for (const old of await scheduledBackupsBefore(db, tenant.id, now - cfg.retentionDays * DAY_MS, RETENTION_BATCH)) {
    if (old.id === keep || old.status === "running") continue;
    await deleteBackup(env, db, old, now);
    out.backupsExpired!++;
  }
  return out;
};
