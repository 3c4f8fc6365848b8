import { createRoute } from "@hono/zod-openapi";
import { desc, lt } from "drizzle-orm";
import { announcements, type AnnouncementRow } from "../../db/tenant/notifications";
import { outboxInsert } from "../../db/tenant/outbox";
import { findRolesByName } from "../../db/tenant/roles";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { withPermission } from "../gateway/middleware/authn";
import {
  createRouter,
  jsonBody,
  jsonResponse,
  PageQuerySchema,
  pageSchema,
  problemResponses,
  traceparentOf,
  pagerFor,
} from "../gateway/http";
import { AnnouncementInputSchema, AnnouncementSchema } from "./schemas";
import { IdempotencyHeaderSchema, onceByKey, replayedHeader } from "../gateway/middleware/idempotency";

/** Tenant admin announcements: /v1/admin/announcements (permission notifications:announce). */
export const announcementRoutes = createRouter();
const tags = ["Notifications"];
const security = [{ bearer: [] }];

const view = (a: AnnouncementRow) => ({ ...a, createdAt: new Date(a.createdAt).toISOString() });

announcementRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/announcements",
    operationId: "createAnnouncement",
    tags,
    security,
    middleware: withPermission("notifications:announce"),
    summary:
      "Announce to every active user, or to the holders of one role (delivered asynchronously to inboxes and online devices)",
    request: { headers: IdempotencyHeaderSchema, body: jsonBody(AnnouncementInputSchema) },
    responses: {
      202: jsonResponse(AnnouncementSchema, "Accepted: inbox entries follow within seconds"),
      ...problemResponses("unknown_role", "forbidden"),
    },
  }),
  async (c) => {
    const input = c.req.valid("json");
    const db = c.get("db");
    if (input.role && !(await findRolesByName(db, [input.role])).length)
      throw new AppError("unknown_role", `No role '${input.role}'.`);
    const p = c.get("principal");
    // A retry after a lost answer (a 503, a dropped connection) must not announce twice.
    const scope = `${c.get("tenant").id}:announce:${p.kind === "user" ? p.userId : `key:${p.keyId}`}`;
    const answer = await onceByKey(c.env, scope, c.req.valid("header")["idempotency-key"], input, async () => {
      const now = Date.now();
      const row: AnnouncementRow = {
        id: newId(now),
        title: input.title,
        body: input.body,
        role: input.role ?? null,
        createdBy: p.kind === "user" ? p.userId : null,
        createdAt: now,
      };
      // The announcement and its event commit together; the notification consumer fans it out.
      await db.batch([
        db.insert(announcements).values(row),
        outboxInsert(
          db,
          {
            type: "announcement.created",
            subject: row.id,
            data: { announcementId: row.id, role: row.role },
            traceparent: traceparentOf(c),
          },
          now,
        ),
      ]);
      return { status: 202, body: view(row) };
    });
    return c.json(answer.body, 202, replayedHeader(answer.replayed));
  },
);

announcementRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/announcements",
    operationId: "listAnnouncements",
    tags,
    security,
    middleware: withPermission("notifications:announce"),
    summary: "Announcements, newest first",
    request: { query: PageQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(AnnouncementSchema), "A page of announcements"),
      ...problemResponses("forbidden"),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const before = (await pg.after(q.cursor))?.[0];
    const rows = await c
      .get("db")
      .select()
      .from(announcements)
      .where(before ? lt(announcements.id, before) : undefined)
      .orderBy(desc(announcements.id))
      .limit(q.limit + 1)
      .all();
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    return c.json({ items: page.map(view), nextCursor }, 200);
  },
);
