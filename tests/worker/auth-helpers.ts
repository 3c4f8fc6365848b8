import { expect } from "vitest";
import { call } from "./helpers";

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  sessionId: string;
  deviceToken?: string;
}

let n = 0;
/** A fresh, valid, uncommon password. */
export const password = () => `Canopy-${crypto.randomUUID()}`;

/** Registers a user in a tenant and returns its credentials and tokens. */
export async function registerUser(tenant: string, extra: Record<string, unknown> = {}) {
  const id = `${Date.now().toString(36)}${(n++).toString(36)}${crypto.randomUUID().slice(0, 4)}`;
  const creds = { email: `u${id}@example.test`, username: `u${id}`, password: password(), ...extra };
  const res = await call("/v1/auth/register", {
    method: "POST",
    tenant,
    json: creds,
    headers: { "cf-connecting-ip": `10.0.${n % 250}.1` },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  const tokens = await res.json<Tokens>();
  const me = await (await call("/v1/me", { tenant, headers: { authorization: `Bearer ${tokens.accessToken}` } })).json<{
    id: string;
  }>();
  return { ...creds, tokens, userId: me.id };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export async function login(
  tenant: string,
  identifier: string,
  pw: string,
  headers: Record<string, string> = {},
  device?: Record<string, string>,
) {
  return call("/v1/auth/login", {
    method: "POST",
    tenant,
    json: { identifier, password: pw, ...(device ? { device } : {}) },
    headers,
  });
}

/** A tenant created with an owner account, and the owner signed in. */
export async function tenantWithOwner(config: Record<string, unknown> = {}) {
  const { createTenant } = await import("./helpers");
  const owner = { email: `owner-${crypto.randomUUID().slice(0, 8)}@example.test`, password: password() };
  const tenant = await createTenant({ owner, config });
  const res = await login(tenant.slug, owner.email, owner.password);
  expect(res.status, await res.clone().text()).toBe(200);
  return { tenant, owner: { ...owner, tokens: await res.json<Tokens>() } };
}

type RegisteredUser = Awaited<ReturnType<typeof registerUser>>;

/** Request options acting as a user of a tenant. */
export const as = (tenant: string, u: { tokens: Tokens }) => ({ tenant, headers: bearer(u.tokens.accessToken) });

/** Makes two users friends (request + accept). */
export async function befriend(tenant: string, a: RegisteredUser, b: RegisteredUser): Promise<void> {
  const { call } = await import("./helpers");
  const { id } = await (
    await call("/v1/friends/requests", { method: "POST", ...as(tenant, a), json: { toUserId: b.userId } })
  ).json<{ id: string }>();
  expect((await call(`/v1/friends/requests/${id}/accept`, { method: "POST", ...as(tenant, b) })).status).toBe(204);
}

/** Signs a user in on another device. */
export async function secondDevice(tenant: string, u: RegisteredUser): Promise<Tokens> {
  const res = await login(
    tenant,
    u.username,
    u.password,
    {},
    { id: `dev-${crypto.randomUUID()}`, name: "Phone", platform: "ios" },
  );
  expect(res.status).toBe(200);
  return res.json<Tokens>();
}
