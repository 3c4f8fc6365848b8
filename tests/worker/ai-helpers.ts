import { env } from "cloudflare:test";
import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { as, bearer, registerUser, tenantWithOwner, type Tokens } from "./auth-helpers";
import { call, tenantDbOf } from "./helpers";

/** A tenant with AI config `ai`, its owner (an admin), and its id. */
export async function aiTenant(ai: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  const { tenant, owner } = await tenantWithOwner({ ai, ...extra });
  return { slug: tenant.slug, tenantId: tenant.id, owner };
}

export interface Quota {
  period: { start: string; end: string };
  limit: number;
  used: number;
  reserved: number;
  remaining: number;
  bonus: number;
  packs: number;
  status: string;
}

export async function quotaOf(slug: string, u: { tokens: Tokens }): Promise<Quota> {
  const res = await call("/v1/ai/quota", as(slug, u));
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Quota>();
}

/** POST /v1/ai/moderate as `u`. */
export const moderate = (slug: string, u: { tokens: Tokens }, text = "a perfectly friendly note") =>
  call("/v1/ai/moderate", { method: "POST", tenant: slug, headers: bearer(u.tokens.accessToken), json: { text } });

/** Grants `units` to a user as `admin`. */
export async function grant(
  slug: string,
  admin: { tokens: Tokens },
  userId: string,
  units: number,
  reason = "goodwill",
) {
  const res = await call(`/v1/admin/users/${userId}/ai-quota/grants`, {
    method: "POST",
    tenant: slug,
    headers: bearer(admin.tokens.accessToken),
    json: { units, reason },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json<{ id: string }>();
}

/** Rows of the tenant's database. */
export async function aiRows<T>(slug: string, query: ReturnType<typeof sql>): Promise<T[]> {
  const { db } = await tenantDbOf(slug);
  return db.all<T>(query);
}

export const callsOf = (slug: string, userId: string) =>
  aiRows<{ status: string; units: number; pack_units: number }>(
    slug,
    sql`SELECT status, units, pack_units FROM ai_calls WHERE user_id = ${userId}`,
  );

/** The user's quota object, for reading it in place. */
export function userQuota(tenantId: string, userId: string) {
  return env.QUOTA.get(env.QUOTA.idFromName(`${tenantId}:ai:${userId}`));
}

export { registerUser };
