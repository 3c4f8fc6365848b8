import { unindexMembers } from "../../db/tenant/conversation-members";
import {
  blankArchivePage,
  claimErasure,
  eraseNotificationsPage,
  eraseUserRows,
  finishErasure,
} from "../../db/tenant/erasure";
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
import { deletePrefix, deleteStoredFiles, exportPrefix } from "./files";

/** Rows of one kind taken per query; a run takes at most PAGES pages of each kind. */
const PAGE = 100;
const PAGES = 5;
/** Conversations whose objects one run visits. */
const CONVERSATIONS = 50;

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
  // Conversations a bounded number per run: each is unindexed once its object erased the user.
  const conversations = await conversationIdsOf(db, userId, CONVERSATIONS + 1);
  for (const id of conversations.slice(0, CONVERSATIONS)) {
    await conversationStub(env, tenant.id, id).eraseMember(userId, anonymizeMessages, now);
    await unindexMembers(db, id, [userId]);
  }
  if (conversations.length > CONVERSATIONS) return "partial";
  await eraseUserRows(db, userId, { pseudonym: `erased:${newId(now)}` });
  if (!(await drained((n) => eraseNotificationsPage(db, userId, n)))) return "partial";
  if (anonymizeMessages && !(await drained((n) => blankArchivePage(db, userId, n)))) return "partial";
  if (policy.contentOnErasure === "delete" && !(await contentErased(db, userId, now))) return "partial";
  if (!(await eraseFiles(s, userId, now))) return "partial";
  await eraseExports(s, userId);
  // Once more: content a request still in flight wrote after the first pass (cheap when none).
  if (policy.contentOnErasure === "delete" && !(await contentErased(db, userId, now))) return "partial";
  await finishErasure(db, userId, now);
  return "done";
}

/** Posts, comments, likes and bookmarks through the users' own delete paths (counters exact). */
async function contentErased(db: TenantScope["db"], userId: string, now: number): Promise<boolean> {
  return (
    (await drained((n) => eraseAuthoredContent(db, userId, n, now))) &&
    (await drained((n) => eraseReactions(db, userId, n, now)))
  );
}

/** Export archives hold a copy of everything: every object under each export's prefix goes, then the rows. */
async function eraseExports({ env, tenant, db }: TenantScope, userId: string): Promise<void> {
  for (const e of await exportsOf(db, userId)) await deletePrefix(env.FILES, exportPrefix(tenant.id, e.id));
  await deleteExportsOf(db, userId);
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
