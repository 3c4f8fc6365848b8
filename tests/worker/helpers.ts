import { env } from "cloudflare:test";
import { exports } from "cloudflare:workers";
import { expect } from "vitest";
import { platformDb } from "../../src/db/client";
import { findTenantBySlug } from "../../src/db/platform/tenants";
import { tenantDb, tenantDbLocation } from "../../src/db/tenant-db";
import type { TenantScope } from "../../src/workers/gateway/context";
import { resolveTenantById } from "../../src/workers/tenancy/tenant-cache";
import { assertDocumentedProblem } from "./documented-problems";

/**
 * Calls the Worker's own fetch handler, as a client on the network would. A problem answer must
 * be one /openapi.json documents for the operation (documented-problems.ts).
 */
export async function call(
  path: string,
  init: RequestInit & { tenant?: string; admin?: boolean; json?: unknown } = {},
): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.tenant) headers.set("x-tenant", init.tenant);
  if (init.admin) headers.set("authorization", `Bearer ${env.ADMIN_TOKEN}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  const res = await exports.default.fetch(new Request(`http://api.test${path}`, { ...init, headers, body }));
  await assertDocumentedProblem(init.method ?? "GET", path, res);
  return res;
}

/** A tenant's POST with an optional JSON body (none when `json` is undefined). */
export function postJson(
  tenant: string,
  path: string,
  json?: unknown,
  headers: Record<string, string> = {},
): Promise<Response> {
  return call(path, { method: "POST", tenant, ...(json === undefined ? {} : { json }), headers });
}

/**
 * A tenant's database, looked up by slug as a test that reads or writes rows needs it: the
 * drizzle handle, and the platform row and location (URL and opened token) it was made from.
 */
export async function tenantDbOf(slug: string) {
  const row = await findTenantBySlug(platformDb(env), slug);
  if (!row) throw new Error(`no tenant ${slug}`);
  const location = await tenantDbLocation(env, row);
  return { id: row.id, row, location, db: tenantDb(location) };
}

/** A tenant's scope as its queue consumers and sweeps get it (its config resolved, its database). */
export async function tenantScopeOf(slug: string): Promise<TenantScope> {
  const row = await findTenantBySlug(platformDb(env), slug);
  const tenant = row && (await resolveTenantById(env, () => platformDb(env), row.id));
  if (!tenant) throw new Error(`no tenant ${slug}`);
  return { env, tenant, db: tenantDb(tenant.db) };
}

/** A slug no other test uses. */
export function uniqueSlug(prefix = "t"): string {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export interface TenantJson {
  id: string;
  slug: string;
  name: string;
  status: string;
  plan: string;
  config: { allowedOrigins: string[]; limits: { maxBodyBytes: number }; features: Record<string, boolean> };
  database: { provider: string; name: string; url: string | null };
  createdAt: string;
  suspendedAt: string | null;
  deletedAt: string | null;
}

/** Creates a tenant through the admin API and returns it. */
export async function createTenant(body: Record<string, unknown> = {}): Promise<TenantJson> {
  const slug = (body.slug as string | undefined) ?? uniqueSlug();
  const res = await call("/admin/v1/tenants", {
    method: "POST",
    admin: true,
    json: { name: `Tenant ${slug}`, ...body, slug },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json();
}

/** Asserts a problem+json response with the given status and code, and returns its body. */
export async function expectProblem(
  res: Response,
  status: number,
  code: string,
): Promise<{ detail: string; requestId: string; errors?: unknown[] }> {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get("content-type")).toContain("application/problem+json");
  const body = JSON.parse(text);
  expect(body.code).toBe(code);
  expect(body.status).toBe(status);
  expect(typeof body.requestId).toBe("string");
  return body;
}
