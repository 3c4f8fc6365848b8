import { createRoute } from "@hono/zod-openapi";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonResponse, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { requireUser, signedIn } from "../gateway/middleware/authn";
import { SearchHitSchema, SearchQuerySchema } from "./search-schemas";
import { search } from "./search-service";

/** GET /v1/search: posts (full text, BM25), users, comments (docs/content.md, "Search"). */
export const searchRoutes = createRouter();

searchRoutes.openapi(
  createRoute({
    method: "get",
    path: "/search",
    operationId: "search",
    tags: ["Search"],
    security: [{ bearer: [] }],
    middleware: signedIn(),
    summary: "Search posts (by relevance or newest first), users or comments",
    description:
      "Only what the caller may see is answered (the visibility rules of the feeds, applied in SQL). Relevance is bm25 (title above body); `nextCursor` continues the same search only.",
    request: { query: SearchQuerySchema },
    responses: {
      200: jsonResponse(pageSchema(SearchHitSchema), "Matches"),
      ...problemResponses("query_too_broad", "invalid_query", "user_required"),
    },
  }),
  async (c) => {
    const me = requireUser(c.get("principal")).userId;
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    return c.json(await search(scopeOf(c), me, q, pg, await pg.after(q.cursor)), 200);
  },
);
