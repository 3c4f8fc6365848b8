import { CanopyError, retryAfterSeconds } from "./errors.js";

export type Fetch = (req: Request) => Promise<Response>;

export interface RetryPolicy {
  /** Retries of a 429 or 503 that says when to come back (Retry-After); default 2. */
  attempts?: number;
  /** Longest Retry-After honoured, in seconds; a longer one fails at once; default 10. */
  maxWaitSeconds?: number;
}

/** What the transport asks of the session: the token to send, and what to do when it is refused. */
export interface Credentials {
  /** The access token to send (refreshed ahead of expiry), or null when signed out. */
  token(): Promise<string | null>;
  /** A 401 for `used`: true when a fresh token is now available (at most one refresh runs at a time). */
  recover(used: string): Promise<boolean>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends a request with the tenant header, retrying a 429 or 503 after its Retry-After (within
 * the policy's cap). Non-2xx answers are returned as they are: callers turn them into errors.
 */
export function tenantFetch(base: Fetch, tenant: string, retry: RetryPolicy = {}): Fetch {
  const attempts = retry.attempts ?? 2;
  const maxWait = retry.maxWaitSeconds ?? 10;
  return async (req) => {
    for (let i = 0; ; i++) {
      const attempt = req.clone();
      attempt.headers.set("x-tenant", tenant);
      let res: Response;
      try {
        res = await base(attempt);
      } catch (err) {
        throw new CanopyError(0, "network_error", `The request failed: ${String(err)}`, null);
      }
      if (res.status !== 429 && res.status !== 503) return res;
      const wait = retryAfterSeconds(res);
      if (i >= attempts || wait === null || wait > maxWait) return res;
      await res.body?.cancel();
      await sleep(wait * 1000);
    }
  };
}

/** {@link tenantFetch} plus the session's bearer token, refreshed and sent once more on a 401. */
export function authedFetch(send: Fetch, credentials: Credentials): Fetch {
  return async (req) => {
    if (req.headers.has("authorization")) return send(req);
    const token = await credentials.token();
    if (!token) return send(req);
    const res = await send(withBearer(req, token));
    if (res.status !== 401 || !(await credentials.recover(token))) return res;
    const fresh = await credentials.token();
    return fresh ? send(withBearer(req, fresh)) : res;
  };
}

function withBearer(req: Request, token: string): Request {
  const r = req.clone();
  r.headers.set("authorization", `Bearer ${token}`);
  return r;
}
