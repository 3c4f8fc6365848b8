import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { MessageChange, SendResult } from "../../durable/conversation";
import { policyOf } from "../../durable/conversation/policy";
import type { MessageView } from "../../durable/protocol/frames";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { scopeOf, type AppEnv } from "../gateway/context";
import {
  createRouter,
  jsonResponse,
  pageSchema,
  pagerFor,
  problemResponses,
  jsonBody,
  traceparentOf,
} from "../gateway/http";
import {
  ConversationParam,
  HistoryQuerySchema,
  MessageChangeSchema,
  MessageCreateSchema,
  MessageEditSchema,
  MessageParam,
  MessageSchema,
  ReadSchema,
} from "./schemas";
import { memberConversation } from "./service";
import { valueOf } from "../gateway/results";

/** Messages and read cursors: /v1/conversations/{id}/messages, /v1/conversations/{id}/read. */
export const messageRoutes = createRouter();
const tags = ["Conversations"];
const security = [{ bearer: [] }];
const mw = signedIn();
/** The caller, the tenant's policy and the conversation (refused before its object is addressed unless the caller is listed in it). */
const target = async (c: Context<AppEnv>, id: string) => {
  const userId = requireUser(c.get("principal")).userId;
  return {
    stub: await memberConversation(scopeOf(c), userId, id),
    userId,
    policy: policyOf(c.get("tenant").config),
  };
};

messageRoutes.openapi(
  createRoute({
    method: "post",
    path: "/conversations/{id}/messages",
    operationId: "sendMessage",
    tags,
    security,
    middleware: mw,
    summary: "Send a message (same semantics as the socket's send frame: a retried clientId answers the original)",
    request: { params: ConversationParam, body: jsonBody(MessageCreateSchema) },
    responses: {
      200: jsonResponse(MessageSchema, "A retry: the message stored earlier"),
      201: jsonResponse(MessageSchema, "Stored and delivered"),
      ...problemResponses(
        "not_friends",
        "user_blocked",
        "user_required",
        "conversation_not_found",
        "file_not_found",
        "file_not_ready",
        "message_blocked",
        "not_file_owner",
      ),
    },
  }),
  async (c) => {
    const { stub, userId, policy } = await target(c, c.req.valid("param").id);
    const r = valueOf<SendResult>(
      await stub.send(userId, c.req.valid("json"), { policy, traceparent: traceparentOf(c) }),
    );
    return c.json(r.message, r.duplicate ? 200 : 201);
  },
);

messageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/conversations/{id}/messages",
    operationId: "listMessages",
    tags,
    security,
    middleware: mw,
    summary:
      "History in seq order: the newest page, then ?cursor=<nextCursor> for older ones (or newer ones after ?after=<seq>); ?before=<seq> and ?after=<seq> start anywhere",
    request: { params: ConversationParam, query: HistoryQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(MessageSchema), "Messages, ascending seq"),
      ...problemResponses("user_required", "conversation_not_found"),
    },
  }),
  async (c) => {
    const { stub, userId } = await target(c, c.req.valid("param").id);
    const { cursor, ...q } = c.req.valid("query");
    // A signed cursor names the seq to continue from and the direction (like every other list).
    const pg = pagerFor(c, "seq");
    const from = await pg.after(cursor);
    if (from) q[from[1]] = from[0];
    const { items, more } = valueOf<{ items: MessageView[]; more: boolean }>(await stub.history(userId, q));
    // Paging forward continues after the last item; paging back continues before the first.
    const direction = q.after !== undefined ? "after" : "before";
    const edge = direction === "after" ? items[items.length - 1] : items[0];
    return c.json({ items, nextCursor: more && edge ? await pg.cursor([edge.seq, direction]) : null }, 200);
  },
);

messageRoutes.openapi(
  createRoute({
    method: "post",
    path: "/conversations/{id}/read",
    operationId: "markConversationRead",
    tags,
    security,
    middleware: mw,
    summary: "Move the caller's read cursor forward (unread counts follow; members' devices get a read frame)",
    request: { params: ConversationParam, body: jsonBody(ReadSchema) },
    responses: {
      200: jsonResponse(ReadSchema, "The read cursor now"),
      ...problemResponses("user_required", "conversation_not_found"),
    },
  }),
  async (c) => {
    const { stub, userId } = await target(c, c.req.valid("param").id);
    return c.json(valueOf(await stub.read(userId, c.req.valid("json").seq)), 200);
  },
);

messageRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/conversations/{id}/messages/{messageId}",
    operationId: "editMessage",
    tags,
    security,
    middleware: mw,
    summary:
      "Edit a message (its sender, within messages.editWindowSeconds; moderated like a send): an `edit` event goes on the log",
    request: { params: MessageParam, body: jsonBody(MessageEditSchema) },
    responses: {
      200: jsonResponse(MessageChangeSchema, "The message as history now shows it, and the event"),
      ...problemResponses(
        "not_message_sender",
        "user_required",
        "conversation_not_found",
        "message_not_found",
        "edit_window_expired",
        "message_recalled",
        "message_blocked",
      ),
    },
  }),
  async (c) => {
    const { id, messageId } = c.req.valid("param");
    const { stub, userId, policy } = await target(c, id);
    return c.json(valueOf<MessageChange>(await stub.edit(userId, messageId, c.req.valid("json").body, policy)), 200);
  },
);

messageRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/conversations/{id}/messages/{messageId}",
    operationId: "recallMessage",
    tags,
    security,
    middleware: mw,
    summary:
      "Recall a message (its sender within messages.recallWindowSeconds; group owner/admins any time): a `recall` event goes on the log",
    request: { params: MessageParam },
    responses: {
      200: jsonResponse(MessageChangeSchema, "The recalled message (body null) and the event"),
      ...problemResponses(
        "not_message_sender",
        "user_required",
        "conversation_not_found",
        "message_not_found",
        "message_recalled",
        "recall_window_expired",
      ),
    },
  }),
  async (c) => {
    const { id, messageId } = c.req.valid("param");
    const { stub, userId, policy } = await target(c, id);
    return c.json(valueOf<MessageChange>(await stub.recall(userId, messageId, policy)), 200);
  },
);
