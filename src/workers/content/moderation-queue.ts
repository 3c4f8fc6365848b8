import { createRoute } from "@hono/zod-openapi";
import { findComment } from "../../db/tenant/comments";
import {
  appealItem,
  claimDecision,
  findItem,
  type ItemRow,
  queuePage,
  unclaimDecision,
} from "../../db/tenant/moderation-items";
import { findPost } from "../../db/tenant/posts";
import { updateProfile } from "../../db/tenant/profiles";
import { findUserById } from "../../db/tenant/users";
import { conversationStub } from "../../durable/protocol/stubs";
import { AppError } from "../../lib/errors";
import { isoOrNull, iso } from "../../lib/time";
import type { Principal, TenantScope } from "../gateway/context";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn, withPermission } from "../gateway/middleware/authn";
import { assertOutranks } from "../gateway/ranks";
import {
  AppealSchema,
  DecisionSchema,
  ItemIdParamSchema,
  ModerationItemSchema,
  QueueQuerySchema,
} from "./moderation-queue-schemas";
import { approveHeldComment, approvePost, removeComment, removePost, restorePost } from "./moderation-service";
import { actorOf, holds, MODERATE_COMMENTS, MODERATE_POSTS } from "./visibility";

/**
 * The review queue of the moderation pipeline (docs/ai.md, Moderation): items the hook held, a
 * moderator's decision applied wherever the item lives, and the author's one appeal of a block.
 */
export const moderationQueueRoutes = createRouter();
const tags = ["Moderation"];
const security = [{ bearer: [] }];
const notFound = () => new AppError("moderation_item_not_found", "No such moderation item.");

export function itemView(i: ItemRow) {
  return {
    id: i.id,
    targetType: i.targetType,
    targetId: i.targetId,
    conversationId: i.conversationId,
    authorId: i.authorId,
    excerpt: i.excerpt,
    autoDecision: i.autoDecision,
    categories: JSON.parse(i.categories) as string[],
    scores: JSON.parse(i.scores) as Record<string, number>,
    provider: i.provider,
    degraded: i.degraded === 1,
    status: i.status,
    decidedBy: i.decidedBy,
    decidedAt: isoOrNull(i.decidedAt),
    note: i.note,
    appeal: i.appealStatus
      ? { status: i.appealStatus, text: i.appealText ?? "", at: iso(i.appealedAt ?? i.updatedAt) }
      : null,
    createdAt: iso(i.createdAt),
  };
}

/**
 * What a decision does to the item's target: a post is published (held), restored (removed, an
 * appeal overturned) or removed; a comment is published or removed. Targets gone already, and
 * kinds with nothing to undo, keep the decision as the record.
 */
async function apply(scope: TenantScope, p: Principal, item: ItemRow, decision: "allow" | "block"): Promise<void> {
  const by = actorOf(p);
  if (item.targetType === "post") {
    const post = await findPost(scope.db, item.targetId);
    if (!post || post.deletedAt !== null) return;
    if (decision === "allow" && post.status === "under_review") await approvePost(scope, post, by);
    else if (decision === "allow" && post.status === "removed") await restorePost(scope, post);
    else if (decision === "block" && (post.status === "published" || post.status === "under_review")) {
      await removePost(scope, post, by);
    }
  } else if (item.targetType === "comment") {
    const comment = await findComment(scope.db, item.targetId);
    if (!comment || comment.deletedAt !== null) return;
    if (decision === "allow") await approveHeldComment(scope, comment, by);
    else await removeComment(scope, comment, by);
  } else if (item.targetType === "message" && decision === "block" && item.conversationId) {
    // Recalled for everyone; a message recalled already stays so.
    await conversationStub(scope.env, scope.tenant.id, item.conversationId).recallForModeration(item.targetId);
  } else if ((item.targetType === "nickname" || item.targetType === "bio") && decision === "block") {
    // A blocked nickname goes back to the one sign-up gave; a blocked bio is emptied.
    const user = await findUserById(scope.db, item.targetId);
    if (!user) return;
    const reset =
      item.targetType === "bio" ? { bio: "" } : { nickname: user.username ?? user.email?.split("@")[0] ?? "" };
    await updateProfile(scope.db, user, reset);
  }
}

moderationQueueRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/moderation/queue",
    operationId: "moderationQueue",
    tags,
    security,
    middleware: withPermission(MODERATE_POSTS),
    summary: "The review queue: held items and open appeals (oldest first), or decided items",
    request: { query: QueueQuerySchema },
    responses: { 200: jsonResponse(pageSchema(ModerationItemSchema), "Items"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const after = (await pg.after(q.cursor)) ?? undefined;
    const rows = await queuePage(scopeOf(c).db, { status: q.status, type: q.type, limit: q.limit + 1, after });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [
      q.status === "open" ? r.updatedAt : (r.decidedAt ?? 0),
      r.id,
    ]);
    return c.json({ items: page.map(itemView), nextCursor }, 200);
  },
);

moderationQueueRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/moderation/{id}/decision",
    operationId: "decideModerationItem",
    tags,
    security,
    middleware: withPermission(MODERATE_POSTS),
    summary: "Allow or block an item, applied where it lives",
    description:
      "Posts: allow publishes a held post (or restores a removed one when an appeal is overturned), block removes it. Comments: allow publishes, block removes (comments also need `comments:moderate`). Messages: block recalls the message for everyone (an overturned appeal cannot bring it back). Nicknames and bios: block resets the field (the nickname to the one sign-up gave, the bio to empty). Blocking needs a rank above the author's. One decision per item and per appeal: a concurrent or repeated one is 409 `moderation_item_decided`. Emits `moderation.decided`.",
    request: { params: ItemIdParamSchema, body: jsonBody(DecisionSchema) },
    responses: {
      200: jsonResponse(ModerationItemSchema, "The item after the decision"),
      ...problemResponses(
        "forbidden",
        "moderation_item_not_found",
        "moderation_item_decided",
        "rank_too_low",
        "post_state_conflict",
      ),
    },
  }),
  async (c) => {
    const scope = scopeOf(c);
    const p = c.get("principal");
    const body = c.req.valid("json");
    const item = await findItem(scope.db, c.req.valid("param").id);
    if (!item) throw notFound();
    if (item.status !== "open" && item.appealStatus !== "open") {
      throw new AppError("moderation_item_decided", "The item was decided already.");
    }
    if (item.targetType === "comment" && !(await holds(scope, p, MODERATE_COMMENTS))) {
      throw new AppError("forbidden", `Deciding a comment needs ${MODERATE_COMMENTS}.`);
    }
    if (body.decision === "block") await assertOutranks(scope.db, p, item.authorId);
    const at = Date.now();
    const event = {
      type: "moderation.decided",
      subject: item.authorId,
      data: {
        itemId: item.id,
        targetType: item.targetType,
        targetId: item.targetId,
        authorId: item.authorId,
        decision: body.decision,
        appeal: item.appealStatus === "open",
      },
    };
    const d = { decision: body.decision, by: actorOf(p), note: body.note ?? null, at };
    if (!(await claimDecision(scope.db, item, d, event))) {
      throw new AppError("moderation_item_decided", "Another decision of this item came first.");
    }
    try {
      await apply(scope, p, item, body.decision);
    } catch (err) {
      // The decision did not take effect: it is undone, so the item can be decided again.
      await unclaimDecision(scope.db, item).catch(() => undefined);
      throw err;
    }
    return c.json(itemView((await findItem(scope.db, item.id)) ?? item), 200);
  },
);

moderationQueueRoutes.openapi(
  createRoute({
    method: "post",
    path: "/moderation/{id}/appeal",
    operationId: "appealModerationItem",
    tags,
    security,
    middleware: signedIn(),
    summary: "Appeal a block of your own content, once",
    description:
      "Only the author, only a blocked item, only once (409 `appeal_not_allowed`); another user's item is 404. The item goes back to the review queue; emits `moderation.appealed`.",
    request: { params: ItemIdParamSchema, body: jsonBody(AppealSchema) },
    responses: {
      200: jsonResponse(ModerationItemSchema, "The item with its appeal"),
      ...problemResponses("user_required", "moderation_item_not_found", "appeal_not_allowed"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const scope = scopeOf(c);
    const item = await findItem(scope.db, c.req.valid("param").id);
    if (!item || item.authorId !== me) throw notFound();
    const refused = () => new AppError("appeal_not_allowed", "Only a blocked item can be appealed, once.");
    if (item.status !== "blocked" || item.appealStatus !== null) throw refused();
    const event = {
      type: "moderation.appealed",
      subject: me,
      data: { itemId: item.id, targetType: item.targetType, targetId: item.targetId, authorId: me },
    };
    if (!(await appealItem(scope.db, item, c.req.valid("json").text, Date.now(), event))) throw refused();
    return c.json(itemView((await findItem(scope.db, item.id)) ?? item), 200);
  },
);
