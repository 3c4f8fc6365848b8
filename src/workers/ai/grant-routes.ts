import { createRoute } from "@hono/zod-openapi";
import { grantRecordsQuery, insertGrantOp } from "../../db/tenant/ai-quota";
import { outboxInsert } from "../../db/tenant/outbox";
import { findUserById } from "../../db/tenant/users";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { iso } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import {
  createRouter,
  jsonBody,
  jsonResponse,
  pageSchema,
  pagerFor,
  problemResponses,
  traceparentOf,
} from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { IdempotencyHeaderSchema, onceByKey, replayedHeader } from "../gateway/middleware/idempotency";
import { GrantCreateSchema, GrantListQuerySchema, GrantSchema, UserIdParamSchema } from "./schemas";

/**
 * Recharges by tenant admins: POST /v1/admin/users/{id}/ai-quota/grants adds units to a user's
 * packs at once (`ai:grant`); GET lists every recharge of the user, grants and paid packs alike
 * (`ai:read`). Grants are records: never edited, never deleted.
 */
export const grantRoutes = createRouter();
const tags = ["AI"];
const security = [{ bearer: [] }];
const path = "/admin/users/{id}/ai-quota/grants";
const notFound = () => new AppError("user_not_found", "No such user.");

grantRoutes.openapi(
  createRoute({
    method: "post",
    path,
    operationId: "grantAiQuota",
    tags,
    security,
    middleware: withPermission("ai:grant"),
    summary: "Grant AI quota units to a user",
    description:
      "The units are usable at once, after the period allowance, like a purchased pack; they do not expire at reset unless `ai.quota.packsExpireAtReset`. Emits `ai.quota.granted`. An `Idempotency-Key` makes a retry safe.",
    request: { params: UserIdParamSchema, headers: IdempotencyHeaderSchema, body: jsonBody(GrantCreateSchema) },
    responses: {
      201: jsonResponse(GrantSchema, "The grant"),
      ...problemResponses("forbidden", "user_not_found", "idempotency_key_reused", "idempotency_in_progress"),
    },
  }),
  async (c) => {
    const s = scopeOf(c);
    const { id: userId } = c.req.valid("param");
    const body = c.req.valid("json");
    const p = c.get("principal");
    const by = p.kind === "user" ? p.userId : `key:${p.keyId}`;
    const answer = await onceByKey(
      c.env,
      `ai-grant:${s.tenant.id}:${by}`,
      c.req.valid("header")["idempotency-key"],
      { userId, ...body },
      async () => {
        const user = await findUserById(s.db, userId);
        if (!user || user.status === "deleted") throw notFound();
        const now = Date.now();
        const id = `aig_${newId(now)}`;
        await s.db.batch([
          insertGrantOp(s.db, { id, userId, units: body.units, reason: body.reason, grantedBy: by, now }),
          outboxInsert(
            s.db,
            {
              type: "ai.quota.granted",
              subject: userId,
              data: { grantId: id, userId, units: body.units, reason: body.reason, grantedBy: by },
              traceparent: traceparentOf(c),
            },
            now,
          ),
        ]);
        const view = {
          id,
          source: "grant" as const,
          userId,
          units: body.units,
          used: 0,
          revoked: 0,
          reason: body.reason,
          grantedBy: by,
          orderId: null,
          createdAt: iso(now),
        };
        return { status: 201, body: view };
      },
    );
    return c.json(answer.body, 201, replayedHeader(answer.replayed));
  },
);

grantRoutes.openapi(
  createRoute({
    method: "get",
    path,
    operationId: "listAiQuotaGrants",
    tags,
    security,
    middleware: withPermission("ai:read"),
    summary: "Every recharge of a user: admin grants and paid packs, newest first",
    request: { params: UserIdParamSchema, query: GrantListQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(GrantSchema), "Grants"),
      ...problemResponses("forbidden", "user_not_found"),
    },
  }),
  async (c) => {
    const { id: userId } = c.req.valid("param");
    const q = c.req.valid("query");
    // A deleted user's records stay readable; an id that never was a user is unknown.
    if (!(await findUserById(scopeOf(c).db, userId))) throw notFound();
    const pg = pagerFor(c, "time-id");
    const at = await pg.after(q.cursor);
    const rows = await grantRecordsQuery(scopeOf(c).db, userId, q.limit + 1, at ?? undefined);
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [r.createdAt, r.id]);
    return c.json({ items: page.map((r) => ({ ...r, createdAt: iso(r.createdAt) })), nextCursor }, 200);
  },
);
