import { emailRecipients, queueDigestItems } from "../../db/tenant/email-digest";
import type { NotificationRow } from "../../db/tenant/notifications";
import { log } from "../../lib/log";
import type { EmailSettings } from "../../lib/user-settings";
import type { TenantScope } from "../gateway/context";
import { sendUserMail } from "../mail/send";
import type { NotificationType } from "./drafts";

/** A per-type switch of the email channel (`digest` is how, not what). */
export type EmailSwitch = Exclude<keyof EmailSettings, "digest">;

/**
 * Which email switch covers each notification type. Operational notices (quota, webhooks) and
 * content activity other than mentions (comments, replies, likes) have none: they are never mailed. `follows` has no type yet (a follow notifies nobody today); the
 * switch is there so clients can show it and it takes effect once follows notify.
 */
const SWITCH_OF: Readonly<Record<NotificationType, EmailSwitch | null>> = {
  friend_request: "friendRequests",
  friend_accepted: "friendRequests",
  message: "messages",
  mention: "mentions",
  announcement: "announcements",
  quota_warning: null,
  webhook_disabled: null,
  // Content activity reaches the inbox and push; of it only mentions are mailed (the mentions switch).
  content_mention: "mentions",
  post_comment: null,
  comment_reply: null,
  post_like: null,
  comment_like: null,
  // Commerce notices are inbox, realtime and push only: the API answers and the wallet show the
  // same facts, and no switch opts into them yet.
  payment_succeeded: null,
  payment_failed: null,
  order_refunded: null,
  vip_changed: null,
  vip_expiring: null,
  // AI notices: inbox, realtime and push (the quota route shows the same facts).
  ai_quota_warning: null,
  ai_quota_granted: null,
  moderation_decided: null,
};

/** Whether a user's email settings opt into mail for a notification type (unknown types: no). */
export function emailWanted(settings: EmailSettings, type: string): boolean {
  const key = (SWITCH_OF as Readonly<Record<string, EmailSwitch | null>>)[type];
  return !!key && settings[key];
}

/** Where a mail's button points: the tenant's app when it has one configured, else nowhere. */
export function appLink(s: TenantScope): { link?: string } {
  const url = s.tenant.config.signIn.appUrl;
  return url ? { link: url } : {};
}

/** A time as mails show it: ISO minutes, UTC ("2025-03-01 14:05 UTC"), like the security notices. */
export const mailTime = (ms: number): string => `${new Date(ms).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** Mails sent at once per batch (a Worker invocation has six outbound connections). */
const CONCURRENCY = 6;

/** Runs `task` over `items`, a few at a time. */
export async function pooled<T>(items: T[], task: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await task(item);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, queue.length) }, worker));
}

/**
 * Whether notification mail may go to the user's address: only a verified one, unless the tenant
 * turned verification off. Otherwise anyone could opt an address that is not theirs into mail.
 */
export const addressProven = (s: TenantScope, user: { emailVerifiedAt: number | null }): boolean =>
  user.emailVerifiedAt !== null || s.tenant.config.signIn.emailVerification === "off";

/**
 * The email channel for rows an event just stored (called after the inbox commit, like frames and
 * pushes: a redelivered event was already applied and reaches none of this; an announcement's
 * redelivery re-tells only the pages never told, under the same mail keys, which a provider drops
 * as repeats). One settings read for the whole batch. A user who opted into the row's type gets one
 * `notification` mail now, or, with `digest` on, an entry on their next digest. A failed mail is
 * logged and not retried: retrying the event would find it applied and send nothing anyway.
 */
export async function mailNotifications(s: TenantScope, eventId: string, rows: NotificationRow[]): Promise<void> {
  const mailable = rows.filter((r) => SWITCH_OF[r.type as NotificationType]);
  if (!mailable.length) return;
  const recipients = await emailRecipients(s.db, [...new Set(mailable.map((r) => r.userId))]);
  const digest: { userId: string; notificationId: string }[] = [];
  const immediate: NotificationRow[] = [];
  for (const row of mailable) {
    const r = recipients.get(row.userId);
    if (!r || !emailWanted(r.email, row.type) || !addressProven(s, r.user)) continue;
    if (r.email.digest) digest.push({ userId: row.userId, notificationId: row.id });
    else immediate.push(row);
  }
  await queueDigestItems(s.db, digest, Date.now());
  await pooled(immediate, async (row) => {
    const r = recipients.get(row.userId)!;
    // The title of this one event, not the collapsed burst's ("3 new friend requests"): each
    // event is its own mail. The key is the same on every attempt, so a provider drops a repeat.
    const vars = { title: row.title, body: row.body, ...appLink(s) };
    try {
      await sendUserMail(s, r.user, r.address, "notification", vars, `${eventId}:${row.userId}`);
    } catch (err) {
      log("warn", "notification mail not sent", { tenantId: s.tenant.id, userId: row.userId, error: String(err) });
    }
  });
}
