import { createRoute } from "@hono/zod-openapi";
import type { Context } from "hono";
import { type AuditDb, type AuditEntry, auditPage } from "../../db/audit-log";
import { platformDb } from "../../db/client";
import { AppError } from "../../lib/errors";
import type { AppEnv } from "../gateway/context";
import { createRouter, jsonResponse, PageQuerySchema, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn, withPermission } from "../gateway/middleware/authn";
import { AuditEntrySchema, AuditQuerySchema } from "./audit-schemas";

/** Reading the audit logs: a tenant's, a user's own security events, the platform's. */
export const auditRoutes = createRouter();
export const platformAuditRoutes = createRouter();

const view = (e: AuditEntry) => ({ ...e, at: new Date(e.at).toISOString() });
const page = AuditQuerySchema;

/** One page of entries, newest first, by the request's filters and signed (time, id) cursor. */
async function listed(c: Context<AppEnv>, db: AuditDb, q: typeof page._output, securityOf?: string) {
  const pg = pagerFor(c, "time-id");
  const from = q.from === undefined ? undefined : Date.parse(q.from);
  const to = q.to === undefined ? undefined : Date.parse(q.to);
  if (from !== undefined && to !== undefined && from >= to)
    throw new AppError("validation_failed", "Invalid query: from must be before to", {
      errors: [{ path: "from", message: "must be before to" }],
    });
  const rows = await auditPage(db, {
    actorId: q.actorId,
    action: q.action,
    targetId: q.targetId,
    from,
    to,
    securityOf,
    before: await pg.after(q.cursor),
    limit: q.limit + 1,
  });
  const { page: items, nextCursor } = await pg.page(rows, q.limit, (e) => [e.at, e.id]);
  return { items: items.map(view), nextCursor };
}

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/audit-log",
    operationId: "listAuditLog",
    tags: ["Tenant admin"],
    security: [{ bearer: [] }],
    summary: "The tenant's audit log, newest first: every admin action and every account's security events",
    middleware: withPermission("audit:read"),
    request: { query: page },
    responses: {
      200: jsonResponse(pageSchema(AuditEntrySchema), "Entries"),
      ...problemResponses("forbidden", "validation_failed"),
    },
  }),
  async (c) => c.json(await listed(c, c.get("db"), c.req.valid("query")), 200),
);

auditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/me/security-log",
    operationId: "getSecurityLog",
    tags: ["Account"],
    security: [{ bearer: [] }],
    summary: "My account's security events, newest first (password, MFA, new devices, email, deletion)",
    middleware: signedIn(),
    request: { query: PageQuerySchema },
    responses: { 200: jsonResponse(pageSchema(AuditEntrySchema), "Entries"), ...problemResponses("user_required") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    return c.json(await listed(c, c.get("db"), c.req.valid("query"), me), 200);
  },
);

platformAuditRoutes.openapi(
  createRoute({
    method: "get",
    path: "/audit-log",
    operationId: "listPlatformAuditLog",
    tags: ["Platform admin"],
    security: [{ adminToken: [] }],
    summary: "The platform's audit log, newest first: every platform admin action",
    request: { query: page },
    responses: { 200: jsonResponse(pageSchema(AuditEntrySchema), "Entries") },
  }),
  async (c) => c.json(await listed(c, platformDb(c.env), c.req.valid("query")), 200),
);
