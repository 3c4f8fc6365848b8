import { pruneAudit } from "../../db/audit-log";
import {
  conversationIdsAfter,
  expiredFiles,
  pruneArchivedMessages,
  pruneNotifications,
  setSweepCursor,
  sweepCursor,
} from "../../db/tenant/retention";
import { conversationStub } from "../../durable/protocol/stubs";
import { expiredExports, failStaleExports, forgetArchive } from "../../db/tenant/exports";
import { deleteStoredFiles } from "../erasure/files";
import type { TenantScope } from "../gateway/context";
import type { TenantSweep } from "../events/cron";

const DAY_MS = 86_400_000;
/** Rows per table per run; conversations visited per run (each prunes at most BATCH entries). */
const BATCH = 500;
const CONVERSATIONS = 200;
const CURSOR = "retention.conversationCursor";

/**
 * Retention (docs/privacy.md): hourly, removes audit entries past `audit.retentionDays` and,
 * where the tenant set a limit, notifications, attachments and messages past theirs, in bounded
 * batches (a backlog takes several hours; no object is held longer than one small call). Expired
 * export archives are deleted, and exports whose build never finished are marked failed.
 */
export const retentionSweep: TenantSweep = async (s, now): Promise<Record<string, number>> => {
  if (new Date(now).getUTCMinutes() !== 0) return {};
  const { db, tenant } = s;
  const r = tenant.config.retention;
  const out: Record<string, number> = {
    auditPruned: await pruneAudit(db, now - tenant.config.audit.retentionDays * DAY_MS, BATCH),
  };
  if (r.notificationsDays > 0)
    out.notificationsPruned = await pruneNotifications(db, now - r.notificationsDays * DAY_MS, BATCH);
  if (r.filesDays > 0) {
    const rows = await expiredFiles(db, now - r.filesDays * DAY_MS, BATCH);
    await deleteStoredFiles(
      s,
      rows.map((f) => ({ ...f, status: "ready" })),
      now,
    );
    out.filesPruned = rows.length;
  }
  if (r.messagesDays > 0) out.messagesPruned = await pruneMessages(s, now - r.messagesDays * DAY_MS, now);
  // Export archives go when they expire; a build that never finished is failed after six hours.
  const expired = await expiredExports(db, now, BATCH);
  if (expired.length > 0) await s.env.FILES.delete(expired.map((e) => e.r2Key));
  for (const e of expired) await forgetArchive(db, e.id);
  out.exportsExpired = expired.length;
  out.exportsFailed = await failStaleExports(db, now - 6 * 3_600_000, now);
  return out;
};

/** The next few conversations' logs (a cursor walks them all in turns), then the archive copy. */
async function pruneMessages(s: TenantScope, before: number, now: number): Promise<number> {
  const { env, tenant, db } = s;
  const ids = await conversationIdsAfter(db, await sweepCursor(db, CURSOR), CONVERSATIONS);
  let pruned = 0;
  for (const id of ids) pruned += await conversationStub(env, tenant.id, id).prune(before, BATCH);
  await setSweepCursor(db, CURSOR, ids.length < CONVERSATIONS ? "" : ids[ids.length - 1]!, now);
  return pruned + (await pruneArchivedMessages(db, before, BATCH));
}
