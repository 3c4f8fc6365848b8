import { createRoute, z } from "@hono/zod-openapi";
import { platformDb } from "../../db/client";
import {
  allQueueStats,
  findDeadLetter,
  listDeadLetters,
  markReplayed,
  pendingDeadLetterCounts,
} from "../../db/platform/events";
import type { DeadLetterRow } from "../../db/platform/schema";
import { tenantDb } from "../../db/tenant-db";
import { outboxBacklog } from "../../db/tenant/outbox";
import { AppError } from "../../lib/errors";
import { CloudEventSchema, queueBinding, queuesFor, type QueueName } from "../../lib/events";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, problemResponses, pagerFor } from "../gateway/http";
import { resolveTenant } from "../tenancy/tenant-cache";
import { SlugParamSchema } from "./schemas";

/** The event pipeline as operators see it: /admin/v1/queues, /admin/v1/dead-letters*, tenant outbox backlog (behind the gateway's admin check). */
export const adminEventRoutes = createRouter();

const tags = ["Platform admin"];
const security = [{ adminToken: [] }];

const DeadLetterSchema = z
  .object({
    id: z.string(),
    queue: z.string().nullable(),
    reason: z.string(),
    eventId: z.string().nullable(),
    eventType: z.string().nullable(),
    tenantId: z.string().nullable(),
    body: z.unknown(),
    createdAt: z.string(),
    replayedAt: z.string().nullable(),
    replayCount: z.number().int(),
  })
  .openapi("DeadLetter");

const view = (r: DeadLetterRow) => ({
  ...r,
  body: JSON.parse(r.body) as unknown,
  createdAt: new Date(r.createdAt).toISOString(),
  replayedAt: r.replayedAt === null ? null : new Date(r.replayedAt).toISOString(),
});

const QUEUE_NAMES: Record<string, QueueName> = {
  "canopy-notification": "notification",
  "canopy-statistics": "statistics",
  "canopy-ai": "ai",
};

adminEventRoutes.openapi(
  createRoute({
    method: "get",
    path: "/queues",
    operationId: "listQueues",
    tags,
    security,
    summary: "Consumer figures per queue (processed, retried, dead-lettered, lag) and pending dead letters",
    responses: {
      200: jsonResponse(
        z.object({
          queues: z.array(
            z.object({
              queue: z.string(),
              processed: z.number(),
              retried: z.number(),
              deadLettered: z.number(),
              lastBatchAt: z.string().nullable(),
              lastBatchSize: z.number().nullable(),
              lastLagMs: z.number().nullable(),
              maxLagMs: z.number(),
            }),
          ),
          deadLetters: z.object({ pending: z.record(z.string(), z.number()) }),
        }),
        "Queue figures",
      ),
    },
  }),
  async (c) => {
    const db = platformDb(c.env);
    const [stats, pending] = await Promise.all([allQueueStats(db), pendingDeadLetterCounts(db)]);
    return c.json(
      {
        queues: stats.map((s) => ({
          ...s,
          lastBatchAt: s.lastBatchAt === null ? null : new Date(s.lastBatchAt).toISOString(),
        })),
        deadLetters: { pending },
      },
      200,
    );
  },
);

adminEventRoutes.openapi(
  createRoute({
    method: "get",
    path: "/dead-letters",
    operationId: "listDeadLetters",
    tags,
    security,
    summary: "Dead letters, newest first",
    request: {
      query: PageQuerySchema.extend({
        queue: z.string().max(64).optional(),
        tenantId: z.string().max(64).optional(),
        status: z.enum(["pending", "replayed"]).optional(),
      }),
    },
    responses: {
      200: jsonResponse(pageSchema(DeadLetterSchema), "A page of dead letters"),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "id");
    const before = (await pg.after(q.cursor))?.[0];
    const rows = await listDeadLetters(platformDb(c.env), {
      queue: q.queue,
      tenantId: q.tenantId,
      status: q.status,
      before,
      limit: q.limit + 1,
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.id]);
    return c.json({ items: page.map(view), nextCursor }, 200);
  },
);

const IdParam = z.object({ id: z.string().min(1).max(128) });

adminEventRoutes.openapi(
  createRoute({
    method: "post",
    path: "/dead-letters/{id}/replay",
    operationId: "replayDeadLetter",
    tags,
    security,
    summary:
      "Send a dead letter's event again: to the queue it failed on, or (retries exhausted, queue unknown) to every queue its type routes to. Consumers are idempotent, so a queue that had already applied it ignores it.",
    request: { params: IdParam },
    responses: {
      200: jsonResponse(z.object({ deadLetter: DeadLetterSchema, replayedTo: z.array(z.string()) }), "Replayed"),
      ...problemResponses("dead_letter_not_found", "not_replayable"),
    },
  }),
  async (c) => {
    const db = platformDb(c.env);
    const row = await findDeadLetter(db, c.req.valid("param").id);
    if (!row) throw new AppError("dead_letter_not_found", "No such dead letter.");
    const event = CloudEventSchema.safeParse(JSON.parse(row.body));
    if (!event.success)
      throw new AppError("not_replayable", "This dead letter is not a valid CloudEvent; it can only be inspected.");
    const known = row.queue ? QUEUE_NAMES[row.queue] : undefined;
    const targets = known ? [known] : queuesFor(event.data.type);
    await Promise.all(targets.map((q) => queueBinding(c.env, q).send(event.data, { contentType: "json" })));
    const updated = await markReplayed(db, row.id, Date.now());
    return c.json({ deadLetter: view(updated ?? row), replayedTo: targets }, 200);
  },
);

adminEventRoutes.openapi(
  createRoute({
    method: "get",
    path: "/tenants/{slug}/outbox",
    operationId: "getTenantOutbox",
    tags,
    security,
    summary: "A tenant's unpublished events (the cron sweeper republishes them)",
    request: { params: SlugParamSchema },
    responses: {
      200: jsonResponse(z.object({ unpublished: z.number(), oldestAgeMs: z.number().nullable() }), "Outbox backlog"),
      ...problemResponses("tenant_not_found"),
    },
  }),
  async (c) => {
    const tenant = await resolveTenant(c.env, () => platformDb(c.env), c.req.valid("param").slug);
    if (!tenant) throw new AppError("tenant_not_found", "No such tenant.");
    return c.json(await outboxBacklog(tenantDb(tenant.db), Date.now()), 200);
  },
);
