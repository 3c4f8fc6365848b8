import { createRoute, z } from "@hono/zod-openapi";
import { USAGE_BUCKET_MS, usageExportPage, usageTotalsPage, userUnits, userUsageQuery } from "../../db/tenant/ai-usage";
import { pagedCsv } from "../../lib/csv";
import { iso } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn, withPermission } from "../gateway/middleware/authn";
import {
  AdminUsageItemSchema,
  AdminUsageQuerySchema,
  UsageExportQuerySchema,
  UsageQuerySchema,
  UsageSchema,
} from "./schemas";
import { usageWindow } from "./usage-window";

/**
 * AI usage history: the caller's by hour or day with a trend (GET /v1/ai/usage); tenant admins'
 * totals per user and feature (GET /v1/admin/ai/usage) and the raw quarter-hour buckets as CSV
 * (GET /v1/admin/ai/usage/export), both `ai:read`.
 */
export const usageRoutes = createRouter();
const tags = ["AI"];
const security = [{ bearer: [] }];
const EXPORT_PAGE = 1_000;
const EXPORT_COLUMNS = ["bucket", "userId", "feature", "units", "calls"] as const;

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/ai/usage",
    operationId: "getAiUsage",
    tags,
    security,
    middleware: signedIn(),
    summary: "The caller's AI usage by hour or day, with the trend against the previous window",
    description:
      "Buckets are local hours or days of `ai.quota.timeZone`, every bucket of the window listed (zero when unused). Hours: at most 31 days; days: at most 366.",
    request: { query: UsageQuerySchema },
    responses: { 200: jsonResponse(UsageSchema, "Usage"), ...problemResponses("user_required", "invalid_range") },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const s = scopeOf(c);
    const q = c.req.valid("query");
    const tz = s.tenant.config.ai.quota.timeZone;
    const w = usageWindow(q, q.granularity, tz);
    const [rows, previousUnits] = await Promise.all([
      userUsageQuery(s.db, me, w.from, w.to),
      userUnits(s.db, me, w.from - (w.to - w.from), w.from),
    ]);
    const items = w.starts.map((start) => ({
      start,
      units: 0,
      calls: 0,
      byFeature: {} as Record<string, { units: number; calls: number }>,
    }));
    let i = 0;
    for (const r of rows) {
      // Rows and buckets are both in time order: walk them together.
      while (i + 1 < items.length && items[i + 1]!.start <= r.bucket) i++;
      const item = items[i]!;
      item.units += r.units;
      item.calls += r.calls;
      const f = (item.byFeature[r.feature] ??= { units: 0, calls: 0 });
      f.units += r.units;
      f.calls += r.calls;
    }
    const total = items.reduce((t, x) => ({ units: t.units + x.units, calls: t.calls + x.calls }), {
      units: 0,
      calls: 0,
    });
    return c.json(
      {
        granularity: q.granularity,
        timeZone: tz,
        items: items.map((x) => ({ ...x, start: iso(x.start) })),
        total,
        trend: {
          previousUnits,
          change: total.units - previousUnits,
          changePercent: previousUnits ? Math.round(((total.units - previousUnits) / previousUnits) * 1000) / 10 : null,
        },
      },
      200,
    );
  },
);

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/ai/usage",
    operationId: "adminAiUsage",
    tags,
    security,
    middleware: withPermission("ai:read"),
    summary: "AI usage per user and feature over a window",
    description:
      "Totals in `[from, to)` widened to whole UTC days (default: the last 7 days, at most 366), by user then feature. `userId: null` is the tenant's own automatic work.",
    request: { query: AdminUsageQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(AdminUsageItemSchema), "Totals"),
      ...problemResponses("forbidden", "invalid_range"),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const w = usageWindow(q, "day", "UTC");
    const pg = pagerFor(c, "id");
    const at = await pg.after(q.cursor);
    const after = at ? (at[0].split("\u001f") as [string, string]) : undefined;
    const rows = await usageTotalsPage(scopeOf(c).db, {
      from: w.from,
      to: w.to,
      userId: q.userId,
      feature: q.feature,
      after: after?.length === 2 ? after : undefined,
      limit: q.limit + 1,
    });
    const { page, nextCursor } = await pg.page(rows, q.limit, (r) => [`${r.userId}\u001f${r.feature}`]);
    return c.json({ items: page.map((r) => ({ ...r, userId: r.userId || null })), nextCursor }, 200);
  },
);

usageRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/ai/usage/export",
    operationId: "exportAiUsage",
    tags,
    security,
    middleware: withPermission("ai:read"),
    summary: "AI usage as CSV: every quarter-hour bucket of every user and feature",
    description:
      "Streamed a page at a time. A header row, then `bucket,userId,feature,units,calls` (`bucket` the ISO start of the quarter hour; `userId` empty for the tenant's own work). RFC 4180 with CRLF; text cells starting with `=`, `+`, `-`, `@`, tab or CR get a leading `'`. The window is widened to whole UTC days (default: the last 7), at most 366.",
    request: { query: UsageExportQuerySchema },
    responses: {
      200: {
        description: "The buckets as CSV (text/csv; charset=utf-8), an attachment",
        content: { "text/csv": { schema: z.string() } },
      },
      ...problemResponses("forbidden", "invalid_range"),
    },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const w = usageWindow(q, "day", "UTC");
    const from = Math.floor(w.from / USAGE_BUCKET_MS) * USAGE_BUCKET_MS;
    const db = scopeOf(c).db;
    const body = pagedCsv<[number, string, string]>(EXPORT_COLUMNS, async (after) => {
      const rows = await usageExportPage(db, { from, to: w.to, after, limit: EXPORT_PAGE });
      const last = rows[rows.length - 1];
      return {
        rows: rows.map((r) => [iso(r.bucket), r.userId, r.feature, r.units, r.calls]),
        next: last && rows.length === EXPORT_PAGE ? [last.bucket, last.userId, last.feature] : undefined,
      };
    });
    return c.body(body, 200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="ai-usage-${iso(w.from)}-${iso(w.to)}.csv"`,
    });
  },
);
