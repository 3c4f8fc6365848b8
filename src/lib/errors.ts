/**
 * The one error type services throw. The gateway's onError renders it as RFC 9457
 * problem+json; `code` is the stable machine-readable identifier clients switch on.
 */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 408 | 409 | 410 | 413 | 415 | 422 | 429 | 500 | 502 | 503;

export interface FieldIssue {
  path: string;
  message: string;
}

export class AppError extends Error {
  override readonly name = "AppError";
  constructor(
    readonly status: ErrorStatus,
    readonly code: string,
    readonly detail: string,
    readonly extra: { errors?: FieldIssue[]; headers?: Record<string, string> } = {},
  ) {
    super(detail);
  }
}

/** Human titles per status, used as the problem's `title`. */
const titles: Record<ErrorStatus, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
};

/** The wire shape of every error response body. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: string;
  detail: string;
  requestId: string;
  errors?: FieldIssue[];
}

/** Builds the RFC 9457 body; `type` is a stable URI per code (documented in docs/errors.md). */
export function toProblem(err: AppError, requestId: string): Problem {
  const problem: Problem = {
    type: `https://canopy.dev/problems/${err.code}`,
    title: titles[err.status],
    status: err.status,
    code: err.code,
    detail: err.detail,
    requestId,
  };
  if (err.extra.errors) problem.errors = err.extra.errors;
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
