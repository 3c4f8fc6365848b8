/** What the browser tests share: the running stack, API calls from Node, tenants and users. */
import { randomUUID } from "node:crypto";
import { expect, inject } from "vitest";

export const stack = () => inject("stack");

let seq = 0;
/** A distinct client address per call, so per-address sign-up limits never meet across tests. */
const nextIp = () => `10.9.${(seq = (seq + 1) % 250)}.${Math.floor(Math.random() * 250) + 1}`;

export async function api<T = unknown>(
  path: string,
  init: { tenant?: string; token?: string; method?: string; json?: unknown; admin?: boolean } = {},
): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { "cf-connecting-ip": nextIp() };
  if (init.tenant) headers["x-tenant"] = init.tenant;
  const token = init.admin ? stack().adminToken : init.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(`${stack().url}${path}`, {
    method: init.method ?? (init.json === undefined ? "GET" : "POST"),
    headers,
    ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
}

export const password = () => `Pw-${randomUUID()}`;

/** A new tenant with an owner account; answers its slug and the owner's credentials. */
export async function tenantWithOwner(name = "Browser test") {
  const slug = `b${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;
  const owner = { email: `owner-${slug}@example.test`, password: password() };
  const res = await api("/admin/v1/tenants", {
    admin: true,
    json: { slug, name, owner, config: { allowedOrigins: ["*"], features: { chat: true } } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return { slug, owner };
}

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  sessionId: string;
}

/** Registers a user (optionally with a nickname); answers the credentials, tokens and id. */
export async function registerUser(tenant: string, nickname?: string) {
  const id = `${Date.now().toString(36)}${randomUUID().slice(0, 6)}`;
  const creds = { email: `u${id}@example.test`, username: `u${id}`, password: password() };
  const res = await api<Tokens>("/v1/auth/register", { tenant, json: creds });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const tokens = res.body;
  if (nickname !== undefined) {
    const patched = await api("/v1/me", { tenant, token: tokens.accessToken, method: "PATCH", json: { nickname } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
  }
  const me = await api<{ id: string }>("/v1/me", { tenant, token: tokens.accessToken });
  return { ...creds, tokens, userId: me.body.id };
}
