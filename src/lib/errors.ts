import { errorRegistry, type ErrorCode, type ErrorSpec } from "./error-codes";

export type { ErrorCode } from "./error-codes";
export type ErrorStatus = ErrorSpec["status"];

export interface FieldIssue {
  path: string;
  message: string;
}

/**
 * The one error type services throw. The gateway's onError renders it as RFC 9457
 * problem+json; `code` is the stable machine-readable identifier clients switch on, and the
 * registry (src/lib/error-codes.ts) gives its status and title.
 */
export class AppError extends Error {
  override readonly name = "AppError";
  readonly status: ErrorStatus;
  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: {
      errors?: FieldIssue[];
      headers?: Record<string, string>;
      /** Extension members of the problem (RFC 9457 §3.2), e.g. `resetsAt` of `quota_exhausted`. */
      members?: Record<string, string | number | boolean | null>;
    } = {},
  ) {
    super(detail);
    this.status = errorRegistry[code].status;
  }
}

/** The wire shape of every error response body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  requestId: string;
  errors?: FieldIssue[];
  [member: string]: unknown;
}

/** Builds the RFC 9457 body; `type` is a stable URI per code (documented in docs/errors.md). */
export function toProblem(err: AppError, requestId: string): Problem {
  const problem: Problem = {
    type: `https://canopy.dev/problems/${err.code}`,
    title: errorRegistry[err.code].title,
    status: err.status,
    code: err.code,
    detail: err.detail,
    requestId,
  };
  if (err.extra.errors) problem.errors = err.extra.errors;
  // Extension members never replace the standard ones.
  for (const [k, v] of Object.entries(err.extra.members ?? {})) if (!(k in problem)) problem[k] = v;
  return problem;
}

/**
 * An error and the causes it wraps, outermost first (drivers wrap SQLite and network errors
 * several levels deep). Bounded, so a cause cycle cannot loop.
 */
export function* errorChain(err: unknown, max = 8): Generator<{ code?: unknown; name?: unknown; message: string }> {
  for (let e: unknown = err, depth = 0; e && depth < max; e = (e as { cause?: unknown }).cause, depth++) {
    const x = e as { code?: unknown; name?: unknown };
    yield { code: x.code, name: x.name, message: e instanceof Error ? e.message : "" };
  }
}

// libSQL client codes of a database that could not be reached or answered with a server error
// (@libsql/client maps Hrana's HttpServerError to SERVER_ERROR, a dead stream to HRANA_CLOSED_ERROR).
const DB_UNAVAILABLE_CODES = new Set([
  "SERVER_ERROR",
  "HRANA_CLOSED_ERROR",
  "HRANA_WEBSOCKET_ERROR",
  "STREAM_EXPIRED",
  "SQLITE_BUSY",
]);
// What fetch throws when the connection fails, is reset or times out (workerd and Node wordings).
const NETWORK_FAILURE =
  /network connection lost|fetch failed|connection (refused|reset|closed)|econn(refused|reset)|timed? ?out|disconnected/i;

/**
 * Whether an error says a database or another service over the network could not be reached,
 * reset the connection, timed out or answered 5xx (not a bug of the request).
 */
export function isUnreachable(err: unknown): boolean {
  for (const { code, name, message } of errorChain(err))
    if (
      (typeof code === "string" && DB_UNAVAILABLE_CODES.has(code)) ||
      name === "TimeoutError" ||
      name === "AbortError" ||
      NETWORK_FAILURE.test(message)
    )
      return true;
  return false;
}
