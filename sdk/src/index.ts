import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import { Auth, type Device } from "./auth.js";
import { CanopyError } from "./errors.js";
import type { paths } from "./schema.gen.js";
import { fetchUpgrade, Realtime, type RealtimeOptions, ticketSocket } from "./realtime.js";
import { memoryStorage, type TokenStorage } from "./storage.js";
import { authedFetch, type Fetch, type RetryPolicy, tenantFetch } from "./transport.js";

export { Auth, type AuthEvents, type Device, type SignInResult, type Tokens } from "./auth.js";
export { CanopyError, type ErrorCode, type Problem } from "./errors.js";
export { errorStatus } from "./codes.gen.js";
export {
  type Ack,
  type ConnectionState,
  fetchUpgrade,
  type MessageFrame,
  type Opener,
  Realtime,
  type RealtimeEvents,
  type SocketLike,
  ticketSocket,
} from "./realtime.js";
export { indexedDbStorage, localStorageAdapter, memoryStorage, type TokenStorage } from "./storage.js";
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
  /**
   * How sockets open and reconnect. Default opener: the access token through `fetch` where the
   * runtime answers upgrades with `webSocket` (Workers), else a ticket and `globalThis.WebSocket`
   * (browsers); in Node pass `ticketSocket(WebSocket)` with `ws`'s constructor.
   */
  realtime?: Partial<RealtimeOptions>;
}

export interface CanopyClient {
  /**
   * Every route, typed from the server's OpenAPI document (openapi-fetch): `await
   * c.api.GET("/v1/me")`. A non-2xx answer throws a {@link CanopyError}; signed-in calls carry the
   * session's token, refreshed as needed.
   */
  api: Client<paths>;
  auth: Auth;
  /** The realtime connection: `connect()`, `on("message", …)`, `send(conversationId, { text })`. */
  realtime: Realtime;
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
  const storage = options.storage ?? memoryStorage();
  const auth = new Auth(send, baseUrl, storage, options.device, options.refreshAheadSeconds);
  const signed = authedFetch(send, auth);
  const api = createFetchClient<paths>({ baseUrl, fetch: signed });
  api.use(throwProblems);
  /** A signed-in request's JSON; a non-2xx answer throws its CanopyError. */
  const json = async (path: string, init?: RequestInit) => {
    const res = await signed(new Request(`${baseUrl}${path}`, init));
    if (!res.ok) throw await CanopyError.from(res);
    return res.json();
  };
  const fetchJson = (path: string) => json(path);
  const ticket = async () => ((await json("/v1/realtime/tickets", { method: "POST" })) as { ticket: string }).ticket;
  const opener =
    options.realtime?.opener ??
    ("WebSocketPair" in globalThis
      ? fetchUpgrade(send)
      : ticketSocket(globalThis.WebSocket as unknown as Parameters<typeof ticketSocket>[0]));
  const realtime = new Realtime(
    auth,
    storage,
    { baseUrl, tenant: options.tenant, ticket, fetchJson },
    {
      ...options.realtime,
      opener,
    },
  );
  return { api, auth, realtime };
}
