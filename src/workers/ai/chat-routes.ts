import { createRoute, z } from "@hono/zod-openapi";
import { streamSSE } from "hono/streaming";
import { type ChatMessage, type ChatSession, findSession, messagesOf, sessionsPage } from "../../db/tenant/ai-chat";
import { AppError, toProblem } from "../../lib/errors";
import { iso } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import {
  ChatRequestSchema,
  ChatSessionDetailSchema,
  ChatSessionSchema,
  HandoffSchema,
  SessionIdParamSchema,
  SessionListQuerySchema,
} from "./chat-schemas";
import { prepareTurn } from "./chat-service";
import { handOff } from "./handoff";

/**
 * The customer-service chat (signed-in users; API keys are refused with 403 `user_required`):
 * POST /v1/ai/chat streams an answer as server-sent events; the caller's sessions and their
 * messages; the handoff to the tenant's support team.
 */
export const chatRoutes = createRouter();
const tags = ["AI"];
const security = [{ bearer: [] }];
const noSession = () => new AppError("chat_session_not_found", "No such chat session of yours.");

const sessionView = (x: ChatSession) => ({
  id: x.id,
  title: x.title,
  status: x.status,
  conversationId: x.conversationId,
  createdAt: iso(x.createdAt),
  lastMessageAt: iso(x.lastMessageAt),
});

const messageView = (m: ChatMessage) => ({
  id: m.id,
  role: m.role,
  content: m.content,
  status: m.status,
  degraded: m.degraded,
  sources: m.sources,
  units: m.units,
  createdAt: iso(m.createdAt),
});

chatRoutes.openapi(
  createRoute({
    method: "post",
    path: "/ai/chat",
    operationId: "chat",
    tags,
    security,
    middleware: signedIn(),
    summary: "Ask the assistant; the answer streams as server-sent events",
    description: [
      "Grounded in the tenant's knowledge base: the best articles for the question are retrieved (full text) and the answer is made from them only.",
      "Refusals before the stream are ordinary problem responses: an unknown session or another user's (404), an exhausted quota (429, no provider call).",
      'Then `text/event-stream`: `event: delta` frames `{"text":"…"}` whose texts concatenate to the answer, and last `event: done` `{ sessionId, usage: { units, inputTokens, outputTokens }, sources: [{ id, title }], answered, degraded?, handoff? }`.',
      "A question no article answers gets the tenant's `ai.chat.noAnswerText` without a provider call (1 unit), `answered: false` and `handoff: { path }`.",
      "A provider failure before the first delta answers from the articles locally (`degraded: true`, not charged); after it, `event: error` with a problem object ends the stream and the answer is stored `partial`.",
      "A client that disconnects is charged the input and the tokens produced so far.",
    ].join(" "),
    request: { body: jsonBody(ChatRequestSchema) },
    responses: {
      200: {
        description: "Server-sent events: `delta` frames, then `done` (or `error`)",
        content: { "text/event-stream": { schema: z.string() } },
      },
      ...problemResponses("user_required", "chat_session_not_found", "quota_exhausted"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const s = scopeOf(c);
    const requestId = c.get("requestId") ?? "unknown";
    const turn = await prepareTurn(s, me, c.req.valid("json"), (p) => c.executionCtx.waitUntil(p));
    return streamSSE(c, async (stream) => {
      const left = new AbortController();
      stream.onAbort(() => left.abort(new Error("the client disconnected")));
      const frame = (event: string, data: unknown) => stream.writeSSE({ event, data: JSON.stringify(data) });
      const done = turn.run(
        {
          delta: (text) => frame("delta", { text }),
          done: (f) => frame("done", f),
          error: (err) => frame("error", toProblem(err, requestId)),
        },
        left.signal,
      );
      // The answer is settled and stored even when the client is gone before the end.
      c.executionCtx.waitUntil(done);
      await done;
    });
  },
);

chatRoutes.openapi(
  createRoute({
    method: "get",
    path: "/ai/chat/sessions",
    operationId: "listChatSessions",
    tags,
    security,
    middleware: signedIn(),
    summary: "The caller's chat sessions, most recently active first",
    request: { query: SessionListQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(ChatSessionSchema), "Sessions"),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const at = await pg.after(q.cursor);
    const rows = await sessionsPage(scopeOf(c).db, me, q.limit + 1, at ?? undefined);
    const { page, nextCursor } = await pg.page(rows, q.limit, (x) => [x.lastMessageAt, x.id]);
    return c.json({ items: page.map(sessionView), nextCursor }, 200);
  },
);

chatRoutes.openapi(
  createRoute({
    method: "get",
    path: "/ai/chat/sessions/{sessionId}",
    operationId: "getChatSession",
    tags,
    security,
    middleware: signedIn(),
    summary: "One of the caller's chat sessions with its messages (the last 200), oldest first",
    request: { params: SessionIdParamSchema },
    responses: {
      200: jsonResponse(ChatSessionDetailSchema, "The session"),
      ...problemResponses("user_required", "chat_session_not_found"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const db = scopeOf(c).db;
    const session = await findSession(db, c.req.valid("param").sessionId, me);
    if (!session) throw noSession();
    const messages = await messagesOf(db, session.id);
    return c.json({ session: sessionView(session), messages: messages.map(messageView) }, 200);
  },
);

chatRoutes.openapi(
  createRoute({
    method: "post",
    path: "/ai/chat/sessions/{sessionId}/handoff",
    operationId: "handOffChatSession",
    tags,
    security,
    middleware: signedIn(),
    summary: "Hand the chat to the tenant's support team",
    description:
      'Opens a group conversation (realtime) of the caller and up to `ai.chat.maxAgents` active holders of the role `ai.chat.supportRole`, whose first message (`custom`, `{ type: "canopy.handoff", sessionId, transcript }`) carries the chat. A retry answers the same conversation.',
    request: { params: SessionIdParamSchema },
    responses: {
      200: jsonResponse(HandoffSchema, "The support conversation"),
      ...problemResponses("user_required", "chat_session_not_found", "handoff_unavailable"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    return c.json(await handOff(scopeOf(c), me, c.req.valid("param").sessionId), 200);
  },
);
