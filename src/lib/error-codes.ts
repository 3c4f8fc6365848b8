/**
 * The error registry: every code Canopy answers, once, with its one HTTP status, its title and a
 * one-line description. `AppError` takes a code from here (an unknown code is a type error) and
 * its status comes from here; Durable Object refusals and socket error frames use the same codes;
 * `docs/errors.md` is generated from this file (`npm run docs:errors`, checked by `npm run lint`);
 * the OpenAPI document lists, per operation and status, the codes it can answer.
 *
 * Grouped by area (the groups become the sections of docs/errors.md). A code never changes its
 * meaning or status once published; retire it instead.
 */
import { aiErrorGroups } from "./error-codes-ai";
import { serviceErrorGroups } from "./error-codes-services";
import { privacyErrorGroups } from "./error-codes-privacy";
import { e, type ErrorSpec } from "./error-spec";

export type { ErrorSpec } from "./error-spec";

/** Every group of the registry, in the order docs/errors.md shows them. */
export const errorGroups = {
  Requests: {
    validation_failed: e(
      400,
      "Validation failed",
      "A body, query, path parameter or header fails its schema; `errors` lists each issue.",
    ),
    malformed_json: e(400, "Malformed JSON", "The body is not JSON."),
    invalid_body: e(
      400,
      "Invalid body",
      "A JSON body that is not strict UTF-8, nests deeper than 32 levels, or holds a NUL or a lone surrogate in a string (see security.md).",
    ),
    invalid_parameter: e(
      400,
      "Invalid parameter",
      "The URL's path or query holds a percent-encoded control character (`%00`–`%1F`, `%7F`), on any route.",
    ),
    invalid_query: e(
      400,
      "Invalid search text",
      "A search text with control characters, lone surrogates, nothing searchable, or over 200 characters.",
    ),
    invalid_cursor: e(
      400,
      "Invalid cursor",
      "A pagination cursor this list did not issue (cursors are signed for their tenant and route).",
    ),
    bad_request: e(
      400,
      "Bad request",
      "The request could not be read (a transport-level problem the runtime reported).",
    ),
    body_timeout: e(408, "Body timeout", "The body stalled for 10 s, or a JSON body took over 30 s to arrive."),
    body_too_large: e(
      413,
      "Body too large",
      "The body exceeds the limit (checked on `Content-Length` and on the streamed bytes).",
    ),
    unsupported_media_type: e(415, "Unsupported media type", "A JSON route got another content type."),
    route_not_found: e(404, "Route not found", "No such route."),
    method_not_allowed: e(405, "Method not allowed", "The path exists under other methods (see `Allow`)."),
    idempotency_in_progress: e(
      409,
      "Request in progress",
      "The first request with this `Idempotency-Key` is still running (`Retry-After: 1`).",
    ),
    idempotency_conflict: e(
      409,
      "Idempotency conflict",
      "The `Idempotency-Key` was released while this request waited for it; retry.",
    ),
    idempotency_key_reused: e(422, "Idempotency key reused", "An `Idempotency-Key` reused with a different body."),
    rate_limited: e(
      429,
      "Too many requests",
      "A rate limit or a failure limit (sign-in, passwords, codes); see `Retry-After` and the `RateLimit` headers.",
    ),
  },
  "Tenants and the platform": {
    tenant_not_found: e(
      404,
      "Tenant not found",
      "No tenant in the host or `X-Tenant`, or it does not exist or was deleted.",
    ),
    tenant_suspended: e(403, "Tenant suspended", "The tenant is suspended."),
    origin_not_allowed: e(403, "Origin not allowed", "The request's `Origin` is not in the tenant's `allowedOrigins`."),
    admin_unauthorized: e(401, "Platform admin credential required", "Missing or wrong platform admin token."),
    metrics_unauthorized: e(
      401,
      "Scrape credential required",
      "`GET /metrics` takes `Authorization: Bearer` with the scrape token (`METRICS_TOKEN`) or the platform admin token.",
    ),
    tenant_exists: e(409, "Tenant exists", "The slug is taken (deleted tenants keep it until purged)."),
    tenant_deleted: e(409, "Tenant deleted", "Changing a deleted tenant."),
    tenant_not_deleted: e(409, "Tenant not deleted", "Purging a tenant that was not deleted first."),
    provisioning_failed: e(
      502,
      "Provisioning failed",
      "The tenant database could not be created; nothing was kept, retry.",
    ),
    tenant_not_ready: e(503, "Tenant not ready", "The tenant database has not been migrated yet."),
    dead_letter_not_found: e(404, "Dead letter not found", "No dead letter with this id (platform admin)."),
    not_replayable: e(409, "Not replayable", "The dead letter is not a valid CloudEvent; it can only be inspected."),
    invalid_range: e(
      400,
      "Invalid range",
      "A time window that is out of order or too long: statistics (`from` after `to`, a day outside 2000-01-01 … 2199-12-31, or longer than the granularity allows); AI usage (`from` not before `to`; hours at most 31 days, days at most 366).",
    ),
  },
  ...serviceErrorGroups,
  ...aiErrorGroups,
  ...privacyErrorGroups,
  Availability: {
    internal_error: e(500, "Internal error", "A bug; quote the request id. The stack is logged, never sent."),
    temporarily_unavailable: e(
      503,
      "Temporarily unavailable",
      "A Durable Object behind the route was briefly unreachable (the runtime flagged the error `retryable`); `Retry-After: 1`.",
    ),
    service_unavailable: e(
      503,
      "Service unavailable",
      "A database or another backing service timed out, reset the connection or answered 5xx; `Retry-After: 2`. Nothing was half-applied.",
    ),
    dependency_unavailable: e(
      503,
      "Dependency unavailable",
      "A circuit breaker is open: a database or another backing service failed repeatedly, so calls to it fail fast until it recovers (docs/operations.md); `Retry-After` says when the next probe goes through.",
    ),
    overloaded: e(
      503,
      "Overloaded",
      "A Durable Object behind the route is overloaded; `Retry-After: 10`, and back off further.",
    ),
  },
} as const satisfies Record<string, Record<string, ErrorSpec>>;

type Groups = typeof errorGroups;
/** Every code the API can answer. */
export type ErrorCode = { [G in keyof Groups]: keyof Groups[G] }[keyof Groups] & string;

/** Code → spec, flattened. */
export const errorRegistry: Readonly<Record<ErrorCode, ErrorSpec>> = Object.assign({}, ...Object.values(errorGroups));

/** True when `code` is a registered code. */
export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(errorRegistry, code);
