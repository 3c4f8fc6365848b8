import {
  claimDigest,
  dropDigestItems,
  dueDigests,
  emailRecipients,
  pendingDigestItems,
  releaseDigest,
  type DueDigest,
  type EmailRecipient,
} from "../../db/tenant/email-digest";
import type { NotificationRow } from "../../db/tenant/notifications";
import { log } from "../../lib/log";
import type { TenantSweep } from "../events/cron";
import { PoisonError } from "../events/queues";
import type { TenantScope } from "../gateway/context";
import { sendUserMail } from "../mail/send";
import { appLink, emailWanted, mailTime, pooled } from "./email";
import { notificationView } from "./view";

/** At most one digest per user per this long. */
export const DIGEST_INTERVAL_MS = 3_600_000;
/** Users served per tenant per minute; the rest wait for the next minute (longest waiting first). */
export const DIGEST_USERS_PER_SWEEP = 50;
/** Waiting items read per user per digest; more wait for the next one. */
const ITEMS_READ = 200;
/** Entries one digest lists (the most recent); the inbox has the rest. */
const ITEMS_LISTED = 50;

type Outcome = "emailDigestsSent" | "emailDigestsDropped" | "emailDigestsFailed" | "emailDigestsRaced";

/**
 * What a user's digest lists: their waiting notifications that are still unread, still exist, and
 * are of a type they still mail (a switch turned off since then takes effect here), oldest first.
 */
function listed(r: EmailRecipient | undefined, pending: (NotificationRow | null)[]): NotificationRow[] {
  if (!r) return [];
  const unread = pending.filter((n): n is NotificationRow => !!n && n.readAt === null && emailWanted(r.email, n.type));
  return unread.sort((a, b) => a.updatedAt - b.updatedAt || a.id.localeCompare(b.id)).slice(-ITEMS_LISTED);
}

/**
 * One user's digest: take the slot (so overlapping sweeps send one), send, then forget the items
 * it covered. Nothing left to list (all read, deleted, switched off, or the account is gone):
 * the items are dropped and no mail goes out, nor does the slot move. A mail the provider did not
 * take gives the slot back for the next minute; one it refused for good is dropped with its items.
 */
async function digestFor(s: TenantScope, due: DueDigest, r: EmailRecipient | undefined, now: number): Promise<Outcome> {
  const pending = await pendingDigestItems(s.db, due.userId, now, ITEMS_READ);
  const ids = pending.map((p) => p.notificationId);
  const entries = listed(
    r,
    pending.map((p) => p.notification),
  );
  if (!r || !entries.length) {
    await dropDigestItems(s.db, due.userId, ids);
    return "emailDigestsDropped";
  }
  if (!(await claimDigest(s.db, due.userId, now, now - DIGEST_INTERVAL_MS))) return "emailDigestsRaced";
  const items = entries.map((n) => {
    const view = notificationView(n);
    return { title: view.title, body: view.body, time: mailTime(n.updatedAt) };
  });
  const minute = new Date(now).toISOString().slice(0, 16);
  let outcome: Outcome = "emailDigestsSent";
  try {
    await sendUserMail(s, r.user, r.address, "digest", { items, ...appLink(s) }, `digest:${due.userId}:${minute}`);
  } catch (err) {
    log("warn", "digest mail not sent", { tenantId: s.tenant.id, userId: due.userId, error: String(err) });
    if (!(err instanceof PoisonError)) {
      await releaseDigest(s.db, due.userId, now, due.lastSentAt);
      return "emailDigestsFailed";
    }
    outcome = "emailDigestsFailed";
  }
  await dropDigestItems(s.db, due.userId, ids);
  return outcome;
}

/**
 * The minute cron's part for the email channel: users whose digest is due (items waiting, last
 * digest an hour ago or never), a bounded batch per tenant, with one settings read for the batch.
 * `now` is the cron's clock, so tests move time instead of sleeping.
 */
export const emailDigestSweep: TenantSweep = async (s, now) => {
  const due = await dueDigests(s.db, now, now - DIGEST_INTERVAL_MS, DIGEST_USERS_PER_SWEEP);
  if (!due.length) return {};
  const recipients = await emailRecipients(
    s.db,
    due.map((d) => d.userId),
  );
  const figures: Record<string, number> = {};
  await pooled(due, async (d) => {
    const outcome = await digestFor(s, d, recipients.get(d.userId), now);
    figures[outcome] = (figures[outcome] ?? 0) + 1;
  });
  return figures;
};
