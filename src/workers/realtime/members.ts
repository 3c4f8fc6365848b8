import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ConversationSummary, MembershipChange } from "../../durable/conversation";
import { AppError } from "../../lib/errors";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { scopeOf, type AppEnv } from "../gateway/context";
import { createRouter, jsonResponse, problemResponses, jsonBody } from "../gateway/http";
import {
  ConversationParam,
  ConversationPatchSchema,
  ConversationSchema,
  MemberParam,
  MemberPatchSchema,
  MembersAddSchema,
} from "./schemas";
import { conversationJson, memberConversation, requireUnblocked, requireUsers } from "./service";
import { indexMembers, unindexMembers } from "../../db/tenant/conversation-members";
import { valueOf } from "../gateway/results";

/**
 * Group management: /v1/conversations/{id} (rename) and /v1/conversations/{id}/members/… (add,
 * remove, leave, roles, ownership, mute). The Conversation object decides every role rule and
 * writes each change as a `system` event on the log; the tenant DB's per-user index follows.
 */
export const memberRoutes = createRouter();
const tags = ["Conversations"];
const security = [{ bearer: [] }];
const mw = signedIn();
/** The caller and the conversation (refused before its object is addressed unless the caller is listed in it). */
const target = async (c: Context<AppEnv>, id: string) => {
  const userId = requireUser(c.get("principal")).userId;
  const s = scopeOf(c);
  return { scope: s, tenant: s.tenant, stub: await memberConversation(s, userId, id), userId, id };
};
const summary = async (t: Awaited<ReturnType<typeof target>>) =>
  conversationJson(valueOf<ConversationSummary>(await t.stub.get(t.userId)));

memberRoutes.openapi(
  createRoute({
    method: "post",
    path: "/conversations/{id}/members",
    operationId: "addConversationMembers",
    tags,
    security,
    middleware: mw,
    summary:
      "Add members to a group (owner/admins): active users of the tenant who does not block the adder, nor is blocked by them",
    request: { params: ConversationParam, body: jsonBody(MembersAddSchema) },
    responses: {
      200: jsonResponse(ConversationSchema, "The group now"),
      ...problemResponses(
        "insufficient_role",
        "user_required",
        "conversation_not_found",
        "user_not_found",
        "not_a_group",
        "group_too_large",
      ),
    },
  }),
  async (c) => {
    const t = await target(c, c.req.valid("param").id);
    const now = Date.now();
    // Membership and role first, so a non-member learns nothing about the users named.
    const me = valueOf<ConversationSummary>(await t.stub.get(t.userId));
    if (me.type !== "group") throw new AppError("not_a_group", "Direct conversations have no group management.");
    const role = me.members.find((m) => m.userId === t.userId)?.role;
    if (role !== "owner" && role !== "admin")
      throw new AppError("insufficient_role", "Your role in this group does not allow this.");
    const present = new Set(me.members.map((m) => m.userId));
    const fresh = [...new Set(c.req.valid("json").userIds)].filter((u) => !present.has(u));
    if (fresh.length > 0) {
      await requireUsers(t.scope, fresh);
      await requireUnblocked(t.scope, t.userId, fresh);
    }
    valueOf<MembershipChange>(await t.stub.addMembers(t.userId, fresh, t.tenant.config.limits.maxGroupMembers, now));
    const after = await summary(t);
    // Rows for everyone named who is a member now, not only those just added: the index gates
    // every call by id (memberConversation), so a retry must repair a row a failed write left out.
    const named = new Set(c.req.valid("json").userIds);
    await indexMembers(
      c.get("db"),
      t.id,
      after.members.map((m) => m.userId).filter((u) => named.has(u)),
      now,
    );
    return c.json(after, 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/conversations/{id}/members/{userId}",
    operationId: "removeConversationMember",
    tags,
    security,
    middleware: mw,
    summary:
      "Remove a member (owner: every member; admins: plain members), or leave with `me` (an owner's group passes to the oldest admin, else the oldest member)",
    request: { params: MemberParam },
    responses: {
      204: { description: "Removed" },
      ...problemResponses(
        "insufficient_role",
        "user_required",
        "conversation_not_found",
        "member_not_found",
        "not_a_group",
      ),
    },
  }),
  async (c) => {
    const { id, userId: who } = c.req.valid("param");
    const t = await target(c, id);
    const member = who === "me" ? t.userId : who;
    const change = valueOf<MembershipChange>(
      member === t.userId ? await t.stub.leave(t.userId) : await t.stub.removeMember(t.userId, member),
    );
    await unindexMembers(c.get("db"), t.id, change.removed);
    return c.body(null, 204);
  },
);

memberRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/conversations/{id}/members/{userId}",
    operationId: "updateConversationMember",
    tags,
    security,
    middleware: mw,
    summary:
      "`{ role }` (owner only): promote to admin, demote to member, or transfer ownership with `owner`; `{ muted }` on `me`: mute notifications",
    request: { params: MemberParam, body: jsonBody(MemberPatchSchema) },
    responses: {
      200: jsonResponse(ConversationSchema, "The conversation now"),
      ...problemResponses("insufficient_role", "not_yourself", "conversation_not_found", "owner_must_transfer"),
    },
  }),
  async (c) => {
    const { id, userId: who } = c.req.valid("param");
    const t = await target(c, id);
    const member = who === "me" ? t.userId : who;
    const patch = c.req.valid("json");
    if (patch.muted !== undefined) {
      if (member !== t.userId) {
        valueOf(await t.stub.get(t.userId));
        throw new AppError("not_yourself", "Members mute conversations for themselves only.");
      }
      valueOf(await t.stub.mute(t.userId, patch.muted));
    } else if (patch.role !== undefined) {
      valueOf(await t.stub.setRole(t.userId, member, patch.role));
    }
    return c.json(await summary(t), 200);
  },
);

memberRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/conversations/{id}",
    operationId: "updateConversation",
    tags,
    security,
    middleware: mw,
    summary: "Rename a group (owner/admins)",
    request: { params: ConversationParam, body: jsonBody(ConversationPatchSchema) },
    responses: {
      200: jsonResponse(ConversationSchema, "The group now"),
      ...problemResponses("insufficient_role", "user_required", "conversation_not_found", "not_a_group"),
    },
  }),
  async (c) => {
    const t = await target(c, c.req.valid("param").id);
    valueOf(await t.stub.rename(t.userId, c.req.valid("json").name));
    return c.json(await summary(t), 200);
  },
);
