/**
 * The load's HTTP client. Every request gets a request id of the harness's own (`X-Request-Id`,
 * which the Worker keeps and logs), and every answer, error or timeout lands in the journal, so
 * the verification can classify all of them afterwards (a 500 anywhere, a 503 without
 * Retry-After, a request that hung) and quote the Worker's log line of any that went wrong.
 */
import { nextAddress } from "../bench/auth-users";

export interface Outcome {
  op: string;
  method: string;
  path: string;
  /** null: no HTTP answer (connection refused or reset, or the client's timeout). */
  status: number | null;
  retryAfter: string | null;
  requestId: string;
  /** The first 300 characters of the body. */
  body: string;
  error: string | null;
  timedOut: boolean;
  startedAt: number;
  endedAt: number;
}

export interface CallOptions {
  token?: string | undefined;
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
  /** Auth routes are limited per client address: give the request an address of its own. */
  freshAddress?: boolean;
}

/** What a call answers: the outcome plus the parsed JSON body (undefined when not JSON). */
export interface Answer extends Outcome {
  json: unknown;
}

let counter = 0;

/** Everything the load asked and got. */
export class Journal {
  readonly outcomes: Outcome[] = [];
  record(o: Outcome): void {
    this.outcomes.push(o);
  }
}

export class Api {
  constructor(
    readonly origin: string,
    readonly tenant: string,
    readonly journal: Journal,
    private readonly defaultTimeoutMs = 30_000,
  ) {}

  async call(op: string, method: string, path: string, o: CallOptions = {}): Promise<Answer> {
    const requestId = `flt-${++counter}-${op.replace(/[^A-Za-z0-9.-]/g, "-")}`.slice(0, 120);
    const headers: Record<string, string> = { "x-tenant": this.tenant, "x-request-id": requestId, ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    if (o.body !== undefined) headers["content-type"] = "application/json";
    if (o.freshAddress) headers["cf-connecting-ip"] = nextAddress();
    const startedAt = Date.now();
    const base = { op, method, path, requestId, startedAt };
    const timeoutMs = o.timeoutMs ?? this.defaultTimeoutMs;
    try {
      const res = await fetch(`${this.origin}${path}`, {
        method,
        headers,
        ...(o.body === undefined ? {} : { body: JSON.stringify(o.body) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        json = undefined;
      }
      const outcome: Outcome = {
        ...base,
        status: res.status,
        retryAfter: res.headers.get("retry-after"),
        body: text.slice(0, 300),
        error: null,
        timedOut: false,
        endedAt: Date.now(),
      };
      this.journal.record(outcome);
      return { ...outcome, json };
    } catch (err) {
      const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : "";
      const outcome: Outcome = {
        ...base,
        status: null,
        retryAfter: null,
        body: "",
        timedOut,
        endedAt: Date.now(),
        error: timedOut
          ? `no answer within ${timeoutMs} ms`
          : `${err instanceof Error ? err.message : String(err)}${cause}`,
      };
      this.journal.record(outcome);
      return { ...outcome, json: undefined };
    }
  }
}

/** A field of a JSON object answer, typed as string (or undefined). */
export function field(v: unknown, key: string): string | undefined {
  if (typeof v !== "object" || v === null || !(key in v)) return undefined;
  const x = (v as Record<string, unknown>)[key];
  return typeof x === "string" ? x : undefined;
}

/** Whether an answer is worth retrying: no answer, or a 503 (after its Retry-After). */
export function retryable(a: Outcome): boolean {
  return a.status === null || a.status === 503;
}

/** How long to wait before retrying `a`: its Retry-After (capped), else `fallbackMs`. */
export function backoffMs(a: Outcome, fallbackMs = 500): number {
  const s = Number(a.retryAfter);
  return Number.isFinite(s) && s > 0 ? Math.min(s, 5) * 1000 : fallbackMs;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Calls until the answer is not retryable or `deadline` passes (the last answer is returned).
 * What a well-behaved client does with 503 + Retry-After and with a dropped connection.
 */
export async function callWithRetry(
  api: Api,
  op: string,
  method: string,
  path: string,
  o: CallOptions,
  deadline: number,
): Promise<{ last: Answer; attempts: Answer[] }> {
  const attempts: Answer[] = [];
  for (;;) {
    const a = await api.call(op, method, path, o);
    attempts.push(a);
    if (!retryable(a) || Date.now() >= deadline) return { last: a, attempts };
    await sleep(backoffMs(a));
  }
}
