/**
 * Who is using the console: a tenant account (through @canopy/client, tokens in this tab's
 * sessionStorage, so closing the tab signs out) or the platform operator (the admin token, also
 * kept for this tab only). No cookies: every call carries a bearer token, so there is nothing a
 * cross-site request could ride on.
 */
import { type CanopyClient, CanopyError, createClient, localStorageAdapter } from "../../sdk/src/index.js";

const MODE_KEY = "canopy-console:mode";
const TENANT_KEY = "canopy-console:tenant";
const ADMIN_KEY = "canopy-console:admin-token";

export type Session = { kind: "tenant"; tenant: string; client: CanopyClient } | { kind: "operator"; token: string };

export function tenantClient(tenant: string): CanopyClient {
  return createClient({
    baseUrl: location.origin,
    tenant,
    storage: localStorageAdapter(`canopy-console:${tenant}:`, sessionStorage),
    device: { id: deviceId(), name: "Canopy console" },
  });
}

/** This browser's console device: signing in again replaces its session instead of adding one. */
function deviceId(): string {
  let id = localStorage.getItem("canopy-console:device");
  if (!id) localStorage.setItem("canopy-console:device", (id = crypto.randomUUID()));
  return id;
}

/** The session this tab had, if any (a tenant session still has to prove its tokens on first call). */
export async function restore(): Promise<Session | null> {
  const mode = sessionStorage.getItem(MODE_KEY);
  if (mode === "operator") {
    const token = sessionStorage.getItem(ADMIN_KEY);
    return token ? { kind: "operator", token } : null;
  }
  const tenant = sessionStorage.getItem(TENANT_KEY);
  if (mode !== "tenant" || !tenant) return null;
  const client = tenantClient(tenant);
  return (await client.auth.sessionId()) ? { kind: "tenant", tenant, client } : null;
}

export function remember(s: Session): void {
  sessionStorage.setItem(MODE_KEY, s.kind);
  if (s.kind === "tenant") sessionStorage.setItem(TENANT_KEY, s.tenant);
  else sessionStorage.setItem(ADMIN_KEY, s.token);
}

export function forget(): void {
  for (const k of [MODE_KEY, ADMIN_KEY]) sessionStorage.removeItem(k);
}

/** The last tenant signed in to on this browser (a convenience for the sign-in form). */
export const lastTenant = () => localStorage.getItem(TENANT_KEY) ?? "";
export const rememberTenant = (slug: string) => localStorage.setItem(TENANT_KEY, slug);

/** A platform admin call: JSON in and out; a non-2xx answer throws its CanopyError. */
export async function operatorCall<T>(
  token: string,
  path: string,
  init: { method?: string; json?: unknown } = {},
): Promise<T> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (init.json !== undefined) headers["content-type"] = "application/json";
  if (init.method && init.method !== "GET") headers["idempotency-key"] = crypto.randomUUID();
  const res = await fetch(path, {
    method: init.method ?? "GET",
    headers,
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  });
  if (!res.ok) throw await CanopyError.from(res);
  return (res.status === 204 ? null : await res.json()) as T;
}
