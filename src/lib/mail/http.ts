import { MailError, retryableStatus } from "./message";

/** The `fetch` a transport calls; injectable so the same code runs in workerd, in Node tests and against a fake. */
export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

/** What the HTTP transports share: where the API is, the fetch to call it with, and how long to wait. */
export interface HttpTransportOptions {
  /** The API's origin (default: the provider's); the local mail catcher in development and tests. */
  baseUrl?: string | undefined;
  fetch?: FetchLike | undefined;
  /** How long one request may take before it counts as a (retryable) network failure. */
  timeoutMs?: number | undefined;
}

// Long enough for a slow provider, short enough that a hung one does not hold a queue batch.
const DEFAULT_TIMEOUT_MS = 10_000;
// Provider error text can echo the request; the log line and the dead letter need only its start.
const MAX_DETAIL = 300;

/** `globalThis.fetch`, looked up at call time (a test may replace it) and called unbound, as workerd requires. */
const platformFetch: FetchLike = (input, init) => fetch(input, init);

/** The base URL without trailing slashes, so `${base}/emails` never doubles one. */
export const trimBase = (url: string): string => url.replace(/\/+$/, "");

/** The answer of a provider's JSON API: its status and its body, parsed when it is JSON. */
export interface JsonAnswer {
  status: number;
  body: unknown;
}

/**
 * POSTs a JSON body. A network failure or timeout is a retryable MailError (the provider may or
 * may not have accepted the message, which is what idempotency keys are for); any answer,
 * success or refusal, is returned for the transport to read.
 */
export async function postJson(
  provider: string,
  url: string,
  headers: Record<string, string>,
  body: unknown,
  options: HttpTransportOptions,
): Promise<JsonAnswer> {
  const send = options.fetch ?? platformFetch;
  let res: Response;
  try {
    res = await send(url, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", ...headers },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
    });
  } catch (err) {
    const why = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    throw new MailError(`${provider}: the API did not answer (${why.slice(0, MAX_DETAIL)})`, true);
  }
  const text = await res.text().catch(() => "");
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Not JSON (a proxy's error page): keep the text for the error message.
  }
  return { status: res.status, body: parsed };
}

/** The MailError for a refused request: retryable for 429 and 5xx, not for other statuses. */
export function refusal(
  provider: string,
  status: number,
  detail: string,
  retryable = retryableStatus(status),
): MailError {
  return new MailError(`${provider}: HTTP ${status}: ${detail.slice(0, MAX_DETAIL)}`, retryable);
}

/** A string field of a JSON error body, if there is one. */
export function field(body: unknown, name: string): string | undefined {
  if (!body || typeof body !== "object") return undefined;
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" || typeof value === "number" ? String(value) : undefined;
}
