import { errorRegistry, type ErrorCode } from "../../lib/error-codes";

/**
 * The problem responses of every operation in /openapi.json: for each status an operation can
 * answer, a problem+json schema whose `code` is an enum of the codes that status carries there.
 * The route declares what its handler refuses (`problemResponses(...codes)` in http.ts); the codes
 * of the chain in front of it are added here from what the document already says about it: its
 * path (platform or tenant routes), its security, its body and parameters.
 */

interface Operation {
  security?: Record<string, string[]>[];
  requestBody?: unknown;
  parameters?: { name: string; in: string }[];
  responses?: Record<string, Response>;
}
interface Response {
  description?: string;
  content?: Record<string, { schema?: unknown }>;
}
/** The part of an OpenAPI document this module reads and writes. */
export interface ProblemDocument {
  paths?: Record<string, Record<string, Operation>>;
}

const PROBLEM = "application/problem+json";
const METHODS = new Set(["get", "put", "post", "delete", "patch"]);

/** Codes any operation may answer: the runtime's and the first middleware's. */
const EVERYWHERE: ErrorCode[] = [
  "internal_error",
  "service_unavailable",
  "dependency_unavailable",
  "temporarily_unavailable",
  "overloaded",
  "invalid_parameter",
];
const TENANT_SCOPE: ErrorCode[] = ["tenant_not_found", "tenant_suspended", "origin_not_allowed"];
const SIGNED_IN: ErrorCode[] = [
  "unauthenticated",
  "invalid_token",
  "session_revoked",
  "account_inactive",
  "invalid_api_key",
  "api_key_revoked",
  "rate_limited",
];
const JSON_BODY: ErrorCode[] = [
  "malformed_json",
  "invalid_body",
  "validation_failed",
  "body_timeout",
  "body_too_large",
  "unsupported_media_type",
];
const IDEMPOTENT: ErrorCode[] = ["idempotency_in_progress", "idempotency_conflict", "idempotency_key_reused"];

/** The codes the chain in front of an operation can answer. */
export function chainCodes(path: string, op: Operation): ErrorCode[] {
  const codes = [...EVERYWHERE];
  const platform = path.startsWith("/admin/v1/");
  if (platform) codes.push("admin_unauthorized");
  else if (path.startsWith("/v1/") || path.startsWith("/.well-known/")) codes.push(...TENANT_SCOPE);
  if (!platform && op.security?.some((s) => "bearer" in s)) codes.push(...SIGNED_IN);
  // Sign-in and sign-up routes have their own per-address limit.
  if (path.startsWith("/v1/auth/")) codes.push("rate_limited");
  if (op.requestBody) codes.push(...JSON_BODY);
  const params = op.parameters ?? [];
  if (params.length) codes.push("validation_failed");
  if (params.some((p) => p.in === "query" && p.name === "cursor")) codes.push("invalid_cursor");
  if (params.some((p) => p.in === "header" && p.name.toLowerCase() === "idempotency-key")) codes.push(...IDEMPOTENT);
  return codes;
}

/** Every `enum` of a `code` property inside a schema (however the generator nested it). */
function declaredCodes(schema: unknown, out: Set<string>): void {
  if (!schema || typeof schema !== "object") return;
  const s = schema as Record<string, unknown>;
  const code = (s.properties as Record<string, { enum?: unknown[] }> | undefined)?.code;
  for (const v of code?.enum ?? []) if (typeof v === "string") out.add(v);
  for (const key of ["allOf", "anyOf", "oneOf"]) for (const sub of (s[key] as unknown[]) ?? []) declaredCodes(sub, out);
}

const problemSchema = (codes: string[]) => ({
  allOf: [
    { $ref: "#/components/schemas/Problem" },
    { type: "object", properties: { code: { type: "string", enum: codes } }, required: ["code"] },
  ],
});

/** Rewrites every operation's problem responses in place: declared plus chain codes, by status. */
export function documentProblems<D extends ProblemDocument>(doc: D): D {
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const responses = (op.responses ??= {});
      const codes = new Set<string>(chainCodes(path, op));
      for (const [status, res] of Object.entries(responses)) {
        if (Number(status) < 400 || !res.content?.[PROBLEM]) continue;
        declaredCodes(res.content[PROBLEM].schema, codes);
        delete res.content[PROBLEM];
        if (Object.keys(res.content).length === 0) delete responses[status];
      }
      const byStatus = new Map<number, string[]>();
      for (const code of codes) {
        const status = errorRegistry[code as ErrorCode].status;
        byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
      }
      for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
        list.sort();
        // A status that also answers another body (readiness's JSON 503) keeps it beside the problem.
        const other = responses[status];
        responses[status] = {
          description: other?.description ?? list.join(", "),
          content: { ...other?.content, [PROBLEM]: { schema: problemSchema(list) } },
        };
      }
    }
  }
  return doc;
}
