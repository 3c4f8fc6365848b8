import { createRoute } from "@hono/zod-openapi";
import { type Article, articlesPage, deleteArticle, insertArticle, updateArticle } from "../../db/tenant/knowledge";
import { AppError } from "../../lib/errors";
import { newId } from "../../lib/ids";
import { iso } from "../../lib/time";
import { scopeOf } from "../gateway/context";
import { createRouter, jsonBody, jsonResponse, pageSchema, pagerFor, problemResponses } from "../gateway/http";
import { withPermission } from "../gateway/middleware/authn";
import { embedArticleSoon } from "./vectors";
import {
  ArticleCreateSchema,
  ArticleIdParamSchema,
  ArticleListQuerySchema,
  ArticlePatchSchema,
  ArticleSchema,
} from "./chat-schemas";

/**
 * The knowledge base the chat answers from: /v1/admin/ai/knowledge (`knowledge:write`, users or
 * API keys). Every write indexes the article in the same batch, so the chat retrieves what an
 * admin just wrote and never what was just deleted.
 */
export const knowledgeRoutes = createRouter();
const tags = ["AI"];
const security = [{ bearer: [] }];
const middleware = withPermission("knowledge:write");
const notFound = () => new AppError("knowledge_not_found", "No such article.");

const view = (a: Article) => ({
  id: a.id,
  title: a.title,
  body: a.body,
  tags: a.tags,
  createdAt: iso(a.createdAt),
  updatedAt: iso(a.updatedAt),
});

knowledgeRoutes.openapi(
  createRoute({
    method: "get",
    path: "/admin/ai/knowledge",
    operationId: "listKnowledgeArticles",
    tags,
    security,
    middleware,
    summary: "The knowledge base's articles, newest first",
    request: { query: ArticleListQuerySchema },
    responses: { 200: jsonResponse(pageSchema(ArticleSchema), "Articles"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const q = c.req.valid("query");
    const pg = pagerFor(c, "time-id");
    const at = await pg.after(q.cursor);
    const rows = await articlesPage(scopeOf(c).db, q.limit + 1, at ?? undefined);
    const { page, nextCursor } = await pg.page(rows, q.limit, (a) => [a.createdAt, a.id]);
    return c.json({ items: page.map(view), nextCursor }, 200);
  },
);

knowledgeRoutes.openapi(
  createRoute({
    method: "post",
    path: "/admin/ai/knowledge",
    operationId: "createKnowledgeArticle",
    tags,
    security,
    middleware,
    summary: "Add an article to the knowledge base",
    description:
      "Indexed at once for the chat's retrieval (full text: folded words, CJK bigrams). Title ≤ 200 characters, body ≤ 50,000, at most 10 tags.",
    request: { body: jsonBody(ArticleCreateSchema) },
    responses: { 201: jsonResponse(ArticleSchema, "The article"), ...problemResponses("forbidden") },
  }),
  async (c) => {
    const body = c.req.valid("json");
    const p = c.get("principal");
    const now = Date.now();
    const article: Article = {
      id: `kb_${newId(now)}`,
      ...body,
      createdBy: p.kind === "user" ? p.userId : `key:${p.keyId}`,
      createdAt: now,
      updatedAt: now,
    };
    const s = scopeOf(c);
    await insertArticle(s.db, article);
    c.executionCtx.waitUntil(embedArticleSoon(s, article.id));
    return c.json(view(article), 201);
  },
);

knowledgeRoutes.openapi(
  createRoute({
    method: "patch",
    path: "/admin/ai/knowledge/{id}",
    operationId: "updateKnowledgeArticle",
    tags,
    security,
    middleware,
    summary: "Change an article's title, body or tags",
    description:
      "Re-indexed in the same batch (its vector, when vectors are on, just after the answer). Fields left out keep their value.",
    request: { params: ArticleIdParamSchema, body: jsonBody(ArticlePatchSchema) },
    responses: {
      200: jsonResponse(ArticleSchema, "The article"),
      ...problemResponses("forbidden", "knowledge_not_found"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    const s = scopeOf(c);
    const updated = await updateArticle(s.db, id, c.req.valid("json"), Date.now());
    if (!updated) throw notFound();
    c.executionCtx.waitUntil(embedArticleSoon(s, id));
    return c.json(view(updated), 200);
  },
);

knowledgeRoutes.openapi(
  createRoute({
    method: "delete",
    path: "/admin/ai/knowledge/{id}",
    operationId: "deleteKnowledgeArticle",
    tags,
    security,
    middleware,
    summary: "Delete an article",
    description:
      "It leaves retrieval (full-text and vector) at once; answers already given keep citing it by id and title.",
    request: { params: ArticleIdParamSchema },
    responses: {
      204: { description: "Deleted" },
      ...problemResponses("forbidden", "knowledge_not_found"),
    },
  }),
  async (c) => {
    const { id } = c.req.valid("param");
    if (!(await deleteArticle(scopeOf(c).db, id, Date.now()))) throw notFound();
    return c.body(null, 204);
  },
);
