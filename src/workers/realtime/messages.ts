import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { SendResult } from "../../durable/conversation";
import type { MessageView } from "../../durable/conversation/frames";
import { authenticate, requireUser } from "../authn";
import type { AppEnv } from "../context";
import { createRouter, jsonResponse, pageSchema, problemResponses } from "../http";
import { rateLimit } from "../rate-limit";
import { ConversationParam, HistoryQuerySchema, MessageCreateSchema, MessageSchema, ReadSchema } from "./schemas";
import { conversationOf, unwrap } from "./service";

/** Messages and read cursors: /v1/conversations/{id}/messages, /v1/conversations/{id}/read. */
export const messageRoutes = createRouter();
const tags = ["Conversations"];
const security = [{ bearer: [] }];
const mw = [authenticate(), rateLimit("api")];
const json = <T>(schema: T) => ({ required: true, content: { "application/json": { schema } } });
const target = (c: Context<AppEnv>, id: string) => ({
  stub: conversationOf(c.env, c.get("tenant").id, id), userId: requireUser(c.get("principal")).userId,
});

messageRoutes.openapi(
  createRoute({
    method: "post", path: "/conversations/{id}/messages", tags, security, middleware: mw,
    summary: "Send a message (same semantics as the socket's send frame: a retried clientId answers the original)",
    request: { params: ConversationParam, body: json(MessageCreateSchema) },
    responses: {
      200: jsonResponse(MessageSchema, "A retry: the message stored earlier"), 201: jsonResponse(MessageSchema, "Stored and delivered"),
      ...problemResponses(400, 401, 403, 404),
    },
  }),
  async (c) => {
    const { stub, userId } = target(c, c.req.valid("param").id);
    const r = unwrap<SendResult>(await stub.send(userId, c.req.valid("json")));
    return c.json(r.message, r.duplicate ? 200 : 201);
  },
);

messageRoutes.openapi(
  createRoute({
    method: "get", path: "/conversations/{id}/messages", tags, security, middleware: mw,
    summary: "History in seq order: the newest page, or older with ?before=<seq>, or newer with ?after=<seq>",
    request: { params: ConversationParam, query: HistoryQuerySchema },
    responses: { 200: jsonResponse(pageSchema(MessageSchema), "Messages, ascending seq"), ...problemResponses(400, 401, 404) },
  }),
  async (c) => {
    const { stub, userId } = target(c, c.req.valid("param").id);
    const q = c.req.valid("query");
    const { items, more } = unwrap<{ items: MessageView[]; more: boolean }>(await stub.history(userId, q));
    // Paging forward continues after the last item; paging back continues before the first.
    const edge = q.after !== undefined ? items[items.length - 1] : items[0];
    return c.json({ items, nextCursor: more && edge ? String(edge.seq) : null }, 200);
  },
);

messageRoutes.openapi(
  createRoute({
    method: "post", path: "/conversations/{id}/read", tags, security, middleware: mw,
    summary: "Move the caller's read cursor forward (unread counts follow; members' devices get a read frame)",
    request: { params: ConversationParam, body: json(ReadSchema) },
    responses: { 200: jsonResponse(ReadSchema, "The read cursor now"), ...problemResponses(400, 401, 404) },
  }),
  async (c) => {
    const { stub, userId } = target(c, c.req.valid("param").id);
    return c.json(unwrap(await stub.read(userId, c.req.valid("json").seq)), 200);
  },
);
