import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import { Auth, type Device } from "./auth.js";
import { CanopyError } from "./errors.js";
import type { paths } from "./schema.gen.js";
import { memoryStorage, type TokenStorage } from "./storage.js";
import { authedFetch, type Fetch, type RetryPolicy, tenantFetch } from "./transport.js";

export { Auth, type AuthEvents, type Device, type SignInResult, type Tokens } from "./auth.js";
export { CanopyError, type ErrorCode, type Problem } from "./errors.js";
export { errorStatus } from "./codes.gen.js";
export { localStorageAdapter, memoryStorage, type TokenStorage } from "./storage.js";
export type { Fetch, RetryPolicy } from "./transport.js";
export type { paths, components, operations } from "./schema.gen.js";

export interface ClientOptions {
  /** The Worker's origin, e.g. `https://api.example.com` (no trailing slash needed). */
  baseUrl: string;
  /** The tenant's slug: sent as `X-Tenant` with every request. */
  tenant: string;
  /** Where the session's tokens live; memory by default (`localStorageAdapter()` in browsers). */
  storage?: TokenStorage;
  /** This device, sent with sign-ins (one session per device: signing in again replaces it). */
  device?: Device;
  /** 429 and 503 retried after their Retry-After, within this cap. */
  retry?: RetryPolicy;
  /** Refresh the access token this long before it expires; default 30 s. */
  refreshAheadSeconds?: number;
  /** The fetch to use (default `globalThis.fetch`): a service binding's, a test's. */
  fetch?: Fetch;
}

export interface CanopyClient {
  /**
   * Every route, typed from the server's OpenAPI document (openapi-fetch): `await
   * c.api.GET("/v1/me")`. A non-2xx answer throws a {@link CanopyError}; signed-in calls carry the
   * session's token, refreshed as needed.
   */
  api: Client<paths>;
  auth: Auth;
}

/** Throws the problem of every non-2xx answer, so a call's `data` is its success. */
const throwProblems: Middleware = {
  async onResponse({ response }) {
    if (!response.ok) throw await CanopyError.from(response);
    return undefined;
  },
};

export function createClient(options: ClientOptions): CanopyClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, "");
  const base: Fetch = options.fetch ?? ((req) => globalThis.fetch(req));
  const send = tenantFetch(base, options.tenant, options.retry);
  const auth = new Auth(send, baseUrl, options.storage ?? memoryStorage(), options.device, options.refreshAheadSeconds);
  const api = createFetchClient<paths>({ baseUrl, fetch: authedFetch(send, auth) });
  api.use(throwProblems);
  return { api, auth };
}
