import { OpenAPIHono, z } from "@hono/zod-openapi";
import type { ZodError } from "zod";
import { errorRegistry, type ErrorCode } from "../../lib/error-codes";
import { AppError, type FieldIssue } from "../../lib/errors";
import type { Context } from "hono";
import { routePath } from "hono/route";
import { pager, type CursorShape, type Pager } from "../../lib/cursor";
import type { AppEnv, ResolvedTenant } from "./context";

/**
 * The template of the route that handles the request (`/v1/users/:id`), as mounted: the last
 * route matched for its method (middleware mounted with `app.use` matches as ALL), or
 * undefined when none did. Metrics, spans and audit entries are keyed by it, never by a raw path.
 */
export function handlerRoute(c: Context<AppEnv>): string | undefined {
  return c.req.matchedRoutes.findLast((r) => r.method !== "ALL")?.path;
}

/** The W3C traceparent of this request's span, for events and calls it causes. */
export function traceparentOf(c: Context<AppEnv>): string {
  return `00-${c.get("traceId")}-${c.get("spanId")}-${c.get("traceSampled") ? "01" : "00"}`;
}

/** Turns zod issues into the `errors` list of a problem document. */
export function fieldIssues(error: ZodError): FieldIssue[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join(".") || "(root)", message: i.message }));
}

/** The validation error every route answers for a bad body, query, param or header. */
export function validationError(error: ZodError, target: string): AppError {
  const issues = fieldIssues(error);
  const first = issues[0];
  const detail = first ? `Invalid ${target}: ${first.path} ${first.message}` : `Invalid ${target}`;
  return new AppError("validation_failed", detail, { errors: issues });
}

/**
 * A router for one service. Every service router shares the validation hook, so a zod failure
 * anywhere becomes the same 400 problem+json.
 */
export function createRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.error, result.target);
    },
  });
}

/** The problem+json schema, referenced by every route's error responses in the OpenAPI document. */
export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().openapi({ example: "validation_failed" }),
    detail: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

/**
 * Response entries for the codes a route's handler can refuse with, by status, for createRoute's
 * `responses`. The codes of the chain in front of it (authentication, body reading, tenancy …)
 * are added to the document by the gateway (gateway/problem-docs.ts), so a route names only its own.
 */
export function problemResponses(...codes: ErrorCode[]) {
  const out: Record<number, { description: string; content: { "application/problem+json": { schema: z.ZodType } } }> =
    {};
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = errorRegistry[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  for (const [status, list] of byStatus) {
    const schema = ProblemSchema.extend({ code: z.enum(list as [ErrorCode, ...ErrorCode[]]) });
    out[status] = { description: list.join(", "), content: { "application/problem+json": { schema } } };
  }
  return out;
}

/** JSON body entry for createRoute's `responses`. */
export function jsonResponse<T extends z.ZodType>(schema: T, description: string) {
  return { description, content: { "application/json": { schema } } };
}

/** Cursor pagination query shared by every list route. */
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20).openapi({ description: "Page size, 1–100" }),
  cursor: z.string().max(200).optional().openapi({ description: "Opaque cursor from the previous page's nextCursor" }),
});

/** `{ items, nextCursor }`, the shape of every list. */
export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

/** A required JSON request body for createRoute's `request.body`. */
export function jsonBody<T>(schema: T) {
  return { required: true, content: { "application/json": { schema } } };
}

/**
 * The cursor pager of the list this route serves: cursors are signed for this tenant (or the
 * platform, on /admin/v1) and this route, so they work nowhere else (src/lib/cursor.ts).
 */
export function pagerFor<S extends CursorShape>(c: Context<AppEnv>, shape: S): Pager<S> {
  const owner = (c.get("tenant") as ResolvedTenant | undefined)?.id ?? "platform";
  return pager(c.env.DB_ENCRYPTION_KEY, `${owner} ${c.req.method} ${routePath(c)}`, shape);
}
