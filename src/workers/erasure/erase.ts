import { unindexMembers } from "../../db/tenant/conversation-members";
import { claimErasure, eraseUserRows, finishErasure } from "../../db/tenant/erasure";
import {
  blankDeletedFiles,
  conversationIdsOf,
  eraseAuthoredContent,
  eraseReactions,
  filesToErase,
} from "../../db/tenant/erasure-content";
import { deleteExportsOf, exportsOf } from "../../db/tenant/exports";
import { conversationStub, hubStub } from "../../durable/protocol/stubs";
import { newId } from "../../lib/ids";
import type { TenantScope } from "../gateway/context";
import { deleteStoredFiles } from "./files";

/** Rows of one kind taken per query; a run takes at most PAGES pages of each kind. */
const PAGE = 100;
const PAGES = 5;

/** not_due: cancelled, never scheduled or already finished; partial: the next sweep goes on. */
export type ErasureOutcome = "done" | "partial" | "not_due";

/**
 * Erases a user whose deletion is due, across every store (docs/privacy.md, "Erasure"). Each step
 * is idempotent and the users row is claimed first, so a run that fails or runs out of its
 * budget part way is finished by a later sweep, and a cancellation racing it either wins before
 * the claim (nothing is erased) or loses (sign-in then fails like an unknown account).
 */
export async function eraseUser(s: TenantScope, userId: string, now = Date.now()): Promise<ErasureOutcome> {
  const { env, tenant, db } = s;
  if (!(await claimErasure(db, userId, now))) return "not_due";
  const policy = tenant.config.privacy;
  const anonymizeMessages = policy.messagesOnErasure === "anonymize";
  // Sessions and sockets end, and every peer's hub forgets the user (friends, blocks, requests).
  await hubStub(env, tenant.id, userId).erase({ tenantId: tenant.id, userId }, now);
  for (const id of await conversationIdsOf(db, userId)) {
    await conversationStub(env, tenant.id, id).eraseMember(userId, anonymizeMessages, now);
    await unindexMembers(db, id, [userId]);
  }
  await eraseUserRows(db, userId, { anonymizeMessages, pseudonym: `erased:${newId(now)}` });
  if (policy.contentOnErasure === "delete") {
    if (!(await drained((n) => eraseAuthoredContent(db, userId, n, now)))) return "partial";
    if (!(await drained((n) => eraseReactions(db, userId, n, now)))) return "partial";
  }
  if (!(await eraseFiles(s, userId, now))) return "partial";
  // Export archives hold a copy of everything: they go with their rows.
  const archives = (await exportsOf(db, userId)).flatMap((e) => (e.r2Key ? [e.r2Key] : []));
  if (archives.length > 0) await env.FILES.delete(archives);
  await deleteExportsOf(db, userId);
  await finishErasure(db, userId, now);
  return "done";
}

/** Runs a paged step until it finds nothing more (true) or its budget is spent (false). */
async function drained(step: (limit: number) => Promise<number>): Promise<boolean> {
  for (let i = 0; i < PAGES; i++) if ((await step(PAGE)) === 0) return true;
  return false;
}

/** Every file of the user's, R2 objects first (files.ts); names of deleted rows are blanked too. */
async function eraseFiles(s: TenantScope, userId: string, now: number): Promise<boolean> {
  return drained(async (limit) => {
    const rows = await filesToErase(s.db, userId, limit);
    if (rows.length === 0) await blankDeletedFiles(s.db, userId);
    else
      await deleteStoredFiles(
        s,
        rows.map((r) => ({ ...r, ownerId: userId })),
        now,
      );
    return rows.length;
  });
}
