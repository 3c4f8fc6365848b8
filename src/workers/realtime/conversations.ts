import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { ConversationSummary, ConvResult } from "../../durable/conversation";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { scopeOf, type AppEnv } from "../gateway/context";
import {
  createRouter,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  problemResponses,
  jsonBody,
  pagerFor,
} from "../gateway/http";
import { attachmentRoutes } from "./attachments";
import { memberRoutes } from "./members";
import { ConversationCreateSchema, ConversationParam, ConversationSchema } from "./schemas";
import { conversationJson, createConversation, memberConversation } from "./service";
import { conversationsOf } from "../../db/tenant/conversation-members";
import { conversationStub } from "../../durable/protocol/stubs";
import { valueOf } from "../gateway/results";

/** Conversations: /v1/conversations, /v1/conversations/{id}; group management in members.ts, attachments in attachments.ts. */
export const conversationRoutes = createRouter();
const tags = ["Conversations"];
const security = [{ bearer: [] }];
const mw = signedIn();
const me = (c: Context<AppEnv>) => ({ tenant: c.get("tenant"), userId: requireUser(c.get("principal")).userId });

conversationRoutes.openapi(
  createRoute({
    method: "post",
    path: "/conversations",
    operationId: "createConversation",
    tags,
    security,
    middleware: mw,
    summary: "Start a direct conversation with a friend (idempotent) or create a group",
    request: { body: jsonBody(ConversationCreateSchema) },
    responses: {
      200: jsonResponse(ConversationSchema, "The existing direct conversation"),
      201: jsonResponse(ConversationSchema, "Created"),
      ...problemResponses("cannot_message_self", "not_friends", "user_required", "user_not_found", "group_too_large"),
    },
  }),
  async (c) => {
    const { userId } = me(c);
    const { created, summary } = await createConversation(scopeOf(c), userId, c.req.valid("json"));
    return c.json(conversationJson(summary), created ? 201 : 200);
  },
);

conversationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/conversations",
    operationId: "listConversations",
    tags,
    security,
    middleware: mw,
    summary: "The caller's conversations (newest joined first) with last message and unread count",
    request: { query: PageQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(ConversationSchema), "Conversations"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const { tenant, userId } = me(c);
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const before = await pg.after(q.cursor);
    const rows = await conversationsOf(c.get("db"), userId, q.limit + 1, before);
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.joinedAt, r.id]);
    // One call per conversation on the page, in parallel; one the user has left is skipped.
    const summaries = await Promise.all(
      page.map(
        async (r) => (await conversationStub(c.env, tenant.id, r.id).get(userId)) as ConvResult<ConversationSummary>,
      ),
    );
    return c.json(
      {
        items: summaries.flatMap((s) => (s.ok ? [conversationJson(s.value)] : [])),
        nextCursor,
      },
      200,
    );
  },
);

conversationRoutes.openapi(
  createRoute({
    method: "get",
    path: "/conversations/{id}",
    operationId: "getConversation",
    tags,
    security,
    middleware: mw,
    summary: "A conversation the caller is a member of",
    request: { params: ConversationParam },
    responses: {
      200: jsonResponse(ConversationSchema, "The conversation"),
      ...problemResponses("user_required", "conversation_not_found"),
    },
  }),
  async (c) => {
    const { userId } = me(c);
    const stub = await memberConversation(scopeOf(c), userId, c.req.valid("param").id);
    const s = valueOf<ConversationSummary>(await stub.get(userId));
    return c.json(conversationJson(s), 200);
  },
);

conversationRoutes.route("/", memberRoutes);
conversationRoutes.route("/", attachmentRoutes);
