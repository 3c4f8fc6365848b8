import { z } from "zod";
import { applyOnce } from "../../db/tenant/processed";
import { rollupStatements, type Rollup } from "../../db/tenant/stats";
import { PoisonError, type Consumer } from "../events/queues";
import { moneyMetric, OrderData, PaymentData } from "./commerce";
import { dayOf } from "./periods";

const Id = z.string().min(1).max(128);
const UserData = z.object({ userId: Id });
const AuthorData = z.object({ authorId: Id });
const MessageData = z.object({ senderId: Id, kind: z.string().min(1).max(32) });
const FileData = z.object({ fileId: Id, size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER) });

/** Log entries that are messages a user sent (system entries, edits and recalls are not). */
const SENT_KINDS = new Set(["text", "custom", "file"]);

type Effect = Omit<Rollup, "day">;

/**
 * A count plus an amount under its currency's metric (commerce.ts). Built as a record first:
 * metric names are open (`revenue.CNY`), and `rollupStatements` writes every key it is given.
 */
function withMoney(count: string, field: Parameters<typeof moneyMetric>[0], amount: number, currency: string) {
  const counters: Record<string, number> = { [count]: 1, [moneyMetric(field, currency)]: amount };
  return counters;
}

function parse<T>(schema: z.ZodType<T>, type: string, data: unknown): T {
  const r = schema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new PoisonError(
      `${type}: invalid data (${i ? `${i.path.join(".") || "(root)"} ${i.message}` : "bad shape"})`,
    );
  }
  return r.data;
}

/**
 * What each counted event type adds to its day. A user counts as active on a day when they
 * sign in, refresh a session, open a socket, write to a conversation, post, comment, like or view.
 */
const effects: Record<string, (data: unknown, type: string) => Effect> = {
  "user.registered": (d, t) => (parse(UserData, t, d), { counters: { registrations: 1 } }),
  "user.deleted": (d, t) => (parse(UserData, t, d), { counters: { users_deleted: 1 } }),
  "session.created": (d, t) => ({ counters: { logins: 1 }, activeUser: parse(UserData, t, d).userId }),
  "session.refreshed": (d, t) => ({ counters: {}, activeUser: parse(UserData, t, d).userId }),
  "connection.opened": (d, t) => ({ counters: { connections_opened: 1 }, activeUser: parse(UserData, t, d).userId }),
  "connection.closed": (d, t) => (parse(UserData, t, d), { counters: { connections_closed: 1 } }),
  "message.created": (d, t) => {
    const m = parse(MessageData, t, d);
    return { counters: SENT_KINDS.has(m.kind) ? { messages: 1 } : {}, activeUser: m.senderId };
  },
  "file.uploaded": (d, t) => ({ counters: { files_uploaded: 1, bytes_uploaded: parse(FileData, t, d).size } }),
  "file.deleted": (d, t) => ({ counters: { files_deleted: 1, bytes_deleted: parse(FileData, t, d).size } }),
  // Content: a post counts when first published, a comment when written, a like of a post or a
  // comment when first put, a view when it counted (one per viewer per post per hour).
  "post.published": (d, t) => ({ counters: { posts: 1 }, activeUser: parse(AuthorData, t, d).authorId }),
  "comment.created": (d, t) => ({ counters: { comments: 1 }, activeUser: parse(AuthorData, t, d).authorId }),
  "post.liked": (d, t) => ({ counters: { likes: 1 }, activeUser: parse(UserData, t, d).userId }),
  "comment.liked": (d, t) => ({ counters: { likes: 1 }, activeUser: parse(UserData, t, d).userId }),
  "post.viewed": (d, t) => ({ counters: { views: 1 }, activeUser: parse(UserData, t, d).userId }),
  // Commerce: on the day the order was paid or refunded, the top-up succeeded. A buyer paying is
  // active; a refund (an admin's act) and a top-up (the provider's webhook) say nothing about them.
  "order.paid": (d, t) => {
    const o = parse(OrderData, t, d);
    return { counters: withMoney("orders", "revenue", o.total, o.currency), activeUser: o.userId };
  },
  "order.refunded": (d, t) => {
    const o = parse(OrderData, t, d);
    return { counters: withMoney("refunds", "refunded", o.total, o.currency) };
  },
  "payment.succeeded": (d, t) => {
    const p = parse(PaymentData, t, d);
    return { counters: withMoney("top_ups", "toppedUp", p.amount, p.currency) };
  },
};

/** The event types the statistics consumer counts (the rest never reach its queue). */
export const COUNTED_EVENT_TYPES = Object.keys(effects);

/**
 * The statistics queue's consumer: each event's rollup is applied exactly once, on the UTC day
 * of the event's own `time` (so a late redelivery lands on the right day), in one transaction
 * with its (statistics, event id) marker. Types it does not count are acknowledged untouched;
 * a counted type with unusable data goes to the dead-letter queue.
 */
export const statisticsConsumer: Consumer = async (event, { db }) => {
  const effect = effects[event.type];
  if (!effect) return;
  if (!event.time) throw new PoisonError(`${event.type}: no time, so no day to count it on`);
  const rollup: Rollup = { day: dayOf(Date.parse(event.time)), ...effect(event.data, event.type) };
  await applyOnce(db, "statistics", event.id, rollupStatements(db, rollup));
};
