import { z } from "zod";
import { applyOnce } from "../../db/tenant/processed";
import { friendEdgeOps, interactionOps, REC_WEIGHTS } from "../../db/tenant/recommend";
import { PoisonError, type Consumer } from "../events/queues";

const Id = z.string().min(1).max(128);
const Reaction = z.object({ postId: Id, authorId: Id, userId: Id });
const View = z.object({ postId: Id, userId: Id });
const Commented = z.object({ postId: Id, postAuthorId: Id, authorId: Id });
const Friends = z.object({ userId: Id, friendId: Id });

/** What an event says: a user's interaction with a post (or none), or a friendship's change. */
type Fact =
  | { kind: "interaction"; userId: string; postId: string; weight: number; authorId?: string }
  | { kind: "friends"; a: string; b: string; on: boolean };

function parse<T>(schema: z.ZodType<T>, type: string, data: unknown): T {
  const r = schema.safeParse(data);
  if (!r.success) throw new PoisonError(`${type}: invalid data (${r.error.issues[0]?.message ?? "bad shape"})`);
  return r.data;
}

const facts: Record<string, (data: unknown, type: string) => Fact> = {
  "post.viewed": (d, t) => ({ kind: "interaction", ...parse(View, t, d), weight: REC_WEIGHTS.view }),
  "post.liked": (d, t) => ({ kind: "interaction", ...parse(Reaction, t, d), weight: REC_WEIGHTS.like }),
  "post.bookmarked": (d, t) => ({ kind: "interaction", ...parse(Reaction, t, d), weight: REC_WEIGHTS.bookmark }),
  "comment.created": (d, t) => {
    const c = parse(Commented, t, d);
    return {
      kind: "interaction",
      userId: c.authorId,
      postId: c.postId,
      authorId: c.postAuthorId,
      weight: REC_WEIGHTS.comment,
    };
  },
  "friend.accepted": (d, t) => {
    const f = parse(Friends, t, d);
    return { kind: "friends", a: f.userId, b: f.friendId, on: true };
  },
  "friend.removed": (d, t) => {
    const f = parse(Friends, t, d);
    return { kind: "friends", a: f.userId, b: f.friendId, on: false };
  },
};

/** The event types the recommendations consumer takes (the rest never reach the `ai` queue for it). */
export const REC_EVENT_TYPES = Object.keys(facts);

/**
 * Keeps the item-item collaborative filtering tables (db/tenant/recommend.ts) and the friend
 * mirror current, one event at a time: the event's statements and its (recommendations, event id)
 * marker are one transaction, so a redelivered event changes nothing. An author's own
 * interactions with their post say nothing about taste and are skipped. Unlikes and
 * un-bookmarks are not events here: weights never go down (docs: recommendations).
 */
export const recConsumer: Consumer = async (event, { db }) => {
  const fact = facts[event.type]?.(event.data, event.type);
  if (!fact) return;
  if (fact.kind === "friends") {
    await applyOnce(db, "recommendations", event.id, friendEdgeOps(db, fact.a, fact.b, fact.on));
    return;
  }
  if (fact.userId === fact.authorId) return;
  const at = event.time ? Date.parse(event.time) : Date.now();
  await applyOnce(db, "recommendations", event.id, interactionOps(db, fact.userId, fact.postId, fact.weight, at));
};
