import { createRoute } from "@hono/zod-openapi";
import { searchStatus } from "../../db/tenant/search";
import { abandonRebuild, beginRebuild, rebuildSources, runRebuild } from "../../db/tenant/search-rebuild";
import { log } from "../../lib/log";
import { isoOrNull } from "../../lib/time";
import { createRouter, jsonResponse, problemResponses } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { SearchStatusSchema } from "./search-schemas";

/**
 * The search index's administration: GET /v1/admin/search/status, POST /v1/admin/search/rebuild.
 * Both need `content:reindex` (the seeded `admin` role has it through `content:*`, `owner` through
 * `*`; moderators do not: a rebuild is operations, not moderation).
 */
export const searchAdminRoutes = createRouter();
const tags = ["Search"];
const security = [{ bearer: [] }];
export const REINDEX = "content:reindex";

searchAdminRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/search/status",
    operationId: "searchStatus",
    tags,
    security,
    middleware: withPermission(REINDEX),
    summary: "The search index: documents indexed, rows that should be, the last rebuild and whether one runs",
    responses: { 200: jsonResponse(SearchStatusSchema, "Index status"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const s = await searchStatus(c.get("db"));
    return c.json(
      {
        documents: s.documents,
        rows: s.rows,
        lastRebuildAt: isoOrNull(s.lastRebuildAt),
        rebuilding: s.rebuildingSince !== null,
      },
      200,
    );
  },
);

searchAdminRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/search/rebuild",
    operationId: "rebuildSearch",
    tags,
    security,
    middleware: withPermission(REINDEX),
    summary: "Rebuild the search index in the background (202); queries use the old index until the swap",
    description:
      "Idempotent while a rebuild runs: a second request answers 202 and starts nothing. Follow progress with GET /v1/admin/search/status.",
    responses: { 202: jsonResponse(SearchStatusSchema, "Rebuild running"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const db = c.get("db");
    const since = Date.now();
    if (await beginRebuild(db, since)) {
      // In the background of this request (waitUntil): see docs/content.md for why not a queue.
      c.executionCtx.waitUntil(
        runRebuild(db, since, rebuildSources).catch(async (err: unknown) => {
          log("error", "search rebuild failed", { tenant: c.get("tenant").slug, error: String(err) });
          await abandonRebuild(db, since).catch(() => undefined);
        }),
      );
    }
    const s = await searchStatus(db);
    return c.json(
      { documents: s.documents, rows: s.rows, lastRebuildAt: isoOrNull(s.lastRebuildAt), rebuilding: true },
      202,
    );
  },
);
