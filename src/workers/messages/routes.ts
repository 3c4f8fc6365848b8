import { createRoute, z } from "@hono/zod-openapi";
import { conversationExists, exportPage, searchMessages, type ArchivedRow } from "../../db/tenant/archive";
import { AppError } from "../../lib/errors";
import { searchQuery } from "../../lib/search-query";
import { requireUser, signedIn, withPermission } from "../gateway/middleware/authn";
import { createRouter, jsonResponse, PageQuerySchema, problemResponses, pagerFor } from "../gateway/http";

/** Search over the message archive (members only) and conversation export (admins): /v1/messages/search, /v1/admin/conversations/{id}/export. */
export const messageArchiveRoutes = createRouter();
const tags = ["Messages"];
const security = [{ bearer: [] }];
const ConversationId = z.string().regex(/^[dg]_[0-9a-z]{20,40}$/, "not a conversation id");

const ArchivedMessageSchema = z
  .object({
    conversationId: z.string(),
    seq: z.number().int(),
    messageId: z.string(),
    senderId: z.string(),
    kind: z.string(),
    body: z.unknown(),
    sentAt: z.string(),
    editedAt: z.string().nullable(),
    recalledAt: z.string().nullable(),
  })
  .openapi("ArchivedMessage");

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
const view = (r: ArchivedRow) => ({
  conversationId: r.conversation_id,
  seq: r.seq,
  messageId: r.id,
  senderId: r.sender_id,
  kind: r.kind,
  body: r.body === null ? null : (JSON.parse(r.body) as unknown),
  sentAt: new Date(r.sent_at).toISOString(),
  editedAt: iso(r.edited_at),
  recalledAt: iso(r.recalled_at),
});

messageArchiveRoutes.openapi(
  createRoute({
    method: "get",
    path: "/messages/search",
    operationId: "searchMessages",
    tags,
    security,
    middleware: signedIn(),
    summary:
      "Search the text of messages in your conversations, newest first (the archive lags live delivery by seconds)",
    request: {
      query: PageQuerySchema.extend({
        q: z
          .string()
          .trim()
          .min(1)
          .max(200)
          .openapi({ description: "Substring to find; 3+ characters use the full-text index" }),
        conversationId: ConversationId.optional(),
      }),
    },
    responses: {
      200: jsonResponse(
        z.object({ items: z.array(ArchivedMessageSchema), nextCursor: z.string().nullable() }),
        "Matches",
      ),
      ...problemResponses("user_required"),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const before = await pg.after(q.cursor);
    const rows = await searchMessages(c.get("db"), requireUser(c.get("principal")).userId, {
      text: searchQuery(q.q),
      conversationId: q.conversationId,
      before,
      limit: q.limit + 1,
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.sent_at, r.id]);
    return c.json({ items: page.map(view), nextCursor }, 200);
  },
);

const EXPORT_PAGE = 500;

messageArchiveRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/conversations/{id}/export",
    operationId: "exportConversation",
    tags,
    security,
    middleware: withPermission("messages:export"),
    summary:
      "Export a conversation's archived log as NDJSON (one entry per line, in seq order, edits and recalls included)",
    request: { params: z.object({ id: ConversationId }) },
    responses: {
      200: { description: "NDJSON (application/x-ndjson): one ArchivedMessage per line" },
      ...problemResponses("forbidden", "conversation_not_found"),
    },
  }),
  async (c) => {
    const db = c.get("db");
    const id = c.req.valid("param").id;
    // Checked before the stream starts: afterwards the status is already sent.
    if (!(await conversationExists(db, id))) throw new AppError("conversation_not_found", "No such conversation.");
    const encoder = new TextEncoder();
    let after = 0;
    // Streamed a page at a time, so a long conversation never sits in memory whole.
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const rows = await exportPage(db, id, after, EXPORT_PAGE);
        if (rows.length) controller.enqueue(encoder.encode(rows.map((r) => JSON.stringify(view(r))).join("\n") + "\n"));
        if (rows.length < EXPORT_PAGE) return controller.close();
        after = rows[rows.length - 1]!.seq;
      },
    });
    return c.body(body, 200, {
      "content-type": "application/x-ndjson; charset=utf-8",
      "content-disposition": `attachment; filename="${id}.ndjson"`,
    });
  },
);
