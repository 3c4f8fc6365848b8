import type { ErrorCode } from "./codes.gen.js";

export type { ErrorCode } from "./codes.gen.js";

/** An RFC 9457 problem as Canopy answers it (docs/errors.md). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  /** Stable: switch on this. */
  code: ErrorCode;
  /** For humans; may change. */
  detail: string;
  requestId: string;
  errors?: { path: string; message: string }[];
}

/**
 * Every refused or failed call: the problem the server answered, or, when no problem arrived (the
 * network failed, a proxy answered HTML), a synthetic one with status 0 or the HTTP status and
 * code `network_error` / `unexpected_response`.
 */
export class CanopyError extends Error {
  readonly status: number;
  readonly code: ErrorCode | "network_error" | "unexpected_response";
  readonly problem: Problem | null;
  /** Seconds the server asked to wait (Retry-After), if it did. */
  readonly retryAfter: number | null;

  constructor(
    status: number,
    code: CanopyError["code"],
    message: string,
    problem: Problem | null,
    retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "CanopyError";
    this.status = status;
    this.code = code;
    this.problem = problem;
    this.retryAfter = retryAfter;
  }

  /** The error a non-2xx response stands for (its body is read). */
  static async from(res: Response): Promise<CanopyError> {
    const retryAfter = retryAfterSeconds(res);
    const type = res.headers.get("content-type") ?? "";
    if (type.includes("json")) {
      const body = (await res.json().catch(() => null)) as Partial<Problem> | null;
      if (body && typeof body.code === "string")
        return new CanopyError(
          res.status,
          body.code as ErrorCode,
          body.detail ?? body.title ?? body.code,
          body as Problem,
          retryAfter,
        );
    }
    return new CanopyError(res.status, "unexpected_response", `HTTP ${res.status}`, null, retryAfter);
  }
}

/** Retry-After in seconds (a number or an HTTP date), or null. */
export function retryAfterSeconds(res: Response): number | null {
  const v = res.headers.get("retry-after");
  if (!v) return null;
  const n = Number(v);
  if (Number.isFinite(n)) return Math.max(0, n);
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, (at - Date.now()) / 1000);
}
