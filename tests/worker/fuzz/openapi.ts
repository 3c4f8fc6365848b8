/**
 * The part of the Worker's own OpenAPI 3.1 document (GET /openapi.json) the fuzzer reads: every
 * operation with its parameters, request body and declared responses. Nothing here names a
 * route, so a route added to the app is fuzzed without touching the suite.
 */

/** JSON Schema type names. */
export type JsonType = "string" | "integer" | "number" | "boolean" | "null" | "array" | "object";

/** The JSON Schema keywords @hono/zod-openapi emits and the fuzzer understands. */
export interface JsonSchema {
  $ref?: string;
  type?: JsonType | JsonType[];
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  description?: string;
}

/** A path, query, header or cookie parameter of an operation. */
export interface Parameter {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  required: boolean;
  schema: JsonSchema;
}

/** An operation's request body. */
export interface RequestBody {
  required: boolean;
  /** Declared media types, e.g. application/json, multipart/form-data, application/octet-stream. */
  contentTypes: string[];
  /** The schema of the first declared media type. */
  schema: JsonSchema;
}

/** One method on one path of the document. */
export interface Operation {
  method: string;
  /** The templated path, e.g. /v1/users/{id}. */
  path: string;
  summary: string;
  /** Security scheme names the operation requires (empty: public). */
  security: string[];
  parameters: Parameter[];
  body?: RequestBody;
  /** Declared response statuses. */
  responses: string[];
}

/** The document, as far as it is read here. */
export interface OpenApiDoc {
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface RawOperation {
  summary?: string;
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: Parameter["in"]; required?: boolean; schema?: JsonSchema }[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
}

const METHODS = ["get", "put", "post", "delete", "patch", "head", "options"];

/** Every operation of the document, in document order. */
export function operationsOf(doc: OpenApiDoc): Operation[] {
  const ops: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!METHODS.includes(method)) continue;
      const content = raw.requestBody?.content ?? {};
      const contentTypes = Object.keys(content);
      ops.push({
        method: method.toUpperCase(),
        path,
        summary: raw.summary ?? "",
        security: (raw.security ?? []).flatMap((s) => Object.keys(s)),
        parameters: (raw.parameters ?? []).map((p) => ({
          name: p.name,
          in: p.in,
          required: p.required === true,
          schema: p.schema ?? {},
        })),
        ...(raw.requestBody
          ? {
              body: {
                required: raw.requestBody.required === true,
                contentTypes,
                schema: content[contentTypes[0] ?? ""]?.schema ?? {},
              },
            }
          : {}),
        responses: Object.keys(raw.responses ?? {}),
      });
    }
  }
  return ops;
}

/** Resolves `$ref`s against the document's components (non-refs are returned as they are). */
export type Resolve = (s: JsonSchema) => JsonSchema;

/** A {@link Resolve} for the document. */
export function resolverOf(doc: OpenApiDoc): Resolve {
  const schemas = doc.components?.schemas ?? {};
  return function resolve(s) {
    let out = s;
    for (let hops = 0; out.$ref && hops < 16; hops++) {
      out = schemas[out.$ref.replace("#/components/schemas/", "")] ?? {};
    }
    return out;
  };
}

/** The schema's types as a list (undefined: any type). */
export function typesOf(s: JsonSchema): JsonType[] | undefined {
  return s.type === undefined ? undefined : Array.isArray(s.type) ? s.type : [s.type];
}

/** `METHOD /path`, the operation's name in test titles and seeds. */
export const opKey = (op: Pick<Operation, "method" | "path">) => `${op.method} ${op.path}`;

/** Routes of the platform admin API (ADMIN_TOKEN), mounted under /admin/v1. */
/** Platform routes: the admin API, and routes the platform admin token opens (GET /metrics). */
export const isPlatformRoute = (op: Operation) =>
  op.path.startsWith("/admin/v1/") || op.security.includes("adminToken");

/**
 * Routes that need a tenant (host or X-Tenant): the gateway mounts its tenant scope on /v1/* and
 * /.well-known/* (src/workers/gateway/app.ts).
 */
export const needsTenant = (op: Operation) => op.path.startsWith("/v1/") || op.path.startsWith("/.well-known/");

/**
 * Routes that require a tenant permission. Every `withPermission(...)` route in
 * src/workers/<service>/ is under /v1/admin/ and every /v1/admin/ route uses it (checked when this
 * suite was written: tenant-admin/*, statistics, announcements, message export, webhooks); the
 * document carries no permission field, so the path prefix is the rule. A plain member holds none.
 */
export const needsPermission = (op: Operation) => op.path.startsWith("/v1/admin/");

/** Whether the operation declares a JSON body (application/json or a +json type). */
export const declaresJson = (op: Operation) =>
  (op.body?.contentTypes ?? []).some((t) => /^application\/([\w.-]+\+)?json$/i.test(t));
/** Whether the operation declares a multipart or urlencoded form body. */
export const declaresForm = (op: Operation) =>
  (op.body?.contentTypes ?? []).some((t) => t === "multipart/form-data" || t === "application/x-www-form-urlencoded");

/**
 * Deletes documented as idempotent ("Unfollow a user (idempotent)"): a well-formed id of nothing
 * may legitimately answer 2xx there. Ids that cannot be ids at all still must not.
 */
export const isIdempotentDelete = (op: Operation) => op.method === "DELETE" && /idempotent/i.test(op.summary);

/** A regex matching the operation's concrete paths, to notice when URL parsing moved a request elsewhere. */
export function pathPattern(op: Operation): RegExp {
  const body = op.path.replace(/[.+?^$()|[\]\\]/g, "\\$&").replace(/\{[^}]+\}/g, "[^/]+");
  return new RegExp(`^${body}/?$`);
}
