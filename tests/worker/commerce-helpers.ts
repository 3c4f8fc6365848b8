import { sql } from "drizzle-orm";
import { expect } from "vitest";
import { type AccountRef, postingOps } from "../../src/db/tenant/ledger";
import { newId } from "../../src/lib/ids";
import { as, bearer, registerUser, tenantWithOwner, type Tokens } from "./auth-helpers";
import { call, tenantDbOf } from "./helpers";

export type User = Awaited<ReturnType<typeof registerUser>>;

/** A tenant for commerce tests, its owner, and a fresh key for money-moving POSTs each call. */
export async function commerceTenant(config: Record<string, unknown> = {}) {
  const { tenant, owner } = await tenantWithOwner(config);
  return { slug: tenant.slug, tenantId: tenant.id, owner };
}

/** A fresh Idempotency-Key. */
export const key = () => `k-${crypto.randomUUID()}`;

/** Headers of a money-moving POST as a user: bearer and a key (fresh unless given). */
export const moneyHeaders = (u: { tokens: Tokens }, k = key()) => ({
  ...bearer(u.tokens.accessToken),
  "idempotency-key": k,
});

/**
 * Moves money straight through the ledger (a balanced `adjustment` from the tenant's
 * `promotions` account), for tests that need a balance before top-ups are the subject.
 */
export async function credit(slug: string, userId: string, amount: bigint, currency = "CNY"): Promise<void> {
  const { db } = await tenantDbOf(slug);
  const legs: { account: AccountRef; amount: bigint; currency: string }[] = [
    { account: { system: "promotions" }, amount: -amount, currency },
    { account: { user: userId }, amount, currency },
  ];
  await db.batch(postingOps(db, { id: newId(), kind: "adjustment", legs }) as never);
}

/** The user's balance in a currency as GET /v1/wallet shows it (0 when absent). */
export async function balance(slug: string, u: { tokens: Tokens }, currency = "CNY"): Promise<number> {
  const res = await call("/v1/wallet", as(slug, u));
  expect(res.status, await res.clone().text()).toBe(200);
  const { balances } = await res.json<{ balances: { currency: string; available: number }[] }>();
  return balances.find((b) => b.currency === currency)?.available ?? 0;
}

interface Report {
  currencies: { currency: string; entriesSum: number; userBalances: number; systemAccounts: Record<string, number> }[];
  inconsistencies: { kind: string; id: string; detail: string }[];
}

/** The reconciliation report as the tenant's owner reads it. */
export async function reconciliation(slug: string, owner: { tokens: Tokens }): Promise<Report> {
  const res = await call("/v1/admin/ledger/reconciliation", as(slug, owner));
  expect(res.status, await res.clone().text()).toBe(200);
  return res.json<Report>();
}

/** The ledger of the tenant is whole: every currency sums to 0, nothing inconsistent. */
export async function expectReconciled(slug: string, owner: { tokens: Tokens }): Promise<Report> {
  const report = await reconciliation(slug, owner);
  expect(report.inconsistencies).toEqual([]);
  for (const c of report.currencies) {
    expect(c.entriesSum, c.currency).toBe(0);
    const system = Object.values(c.systemAccounts).reduce((a, b) => a + b, 0);
    expect(c.userBalances + system, c.currency).toBe(0);
  }
  return report;
}

/** Rows of a query on the tenant's database (for checks the API does not show). */
export async function rows<T>(slug: string, query: ReturnType<typeof sql>): Promise<T[]> {
  const { db } = await tenantDbOf(slug);
  return db.all<T>(query);
}

export { registerUser };

export interface Product {
  id: string;
  sku: string;
  kind: string;
  price: { amount: number; currency: string };
  active: boolean;
  grants: Record<string, unknown>;
}

/** Creates a product as the tenant's owner. */
export async function product(
  slug: string,
  owner: { tokens: Tokens },
  body: {
    kind: string;
    price: { amount: number; currency: string };
    grants: Record<string, unknown>;
    sku?: string;
    name?: string;
  },
): Promise<Product> {
  const res = await call("/v1/admin/products", {
    method: "POST",
    ...as(slug, owner),
    json: { sku: `sku-${crypto.randomUUID().slice(0, 8)}`, name: "A product", ...body },
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return res.json<Product>();
}

export interface Order {
  id: string;
  userId: string;
  status: string;
  items: { productId: string; quantity: number; total: { amount: number; currency: string } }[];
  total: { amount: number; currency: string };
  createdAt: string;
  paidAt?: string;
  refund?: { reason: string; by: string; clawedBack: { currency: string; amount: number; shortfall: number }[] };
}

/** POST /v1/orders as a user (a fresh key unless given); the raw response. */
export const order = (
  slug: string,
  u: { tokens: Tokens },
  items: { productId: string; quantity?: number }[],
  k = key(),
) => call("/v1/orders", { method: "POST", tenant: slug, headers: moneyHeaders(u, k), json: { items, pay: "wallet" } });

/** POST /v1/admin/orders/{id}/refund as an admin (a fresh key unless given); the raw response. */
export const refund = (slug: string, admin: { tokens: Tokens }, orderId: string, reason = "asked", k = key()) =>
  call(`/v1/admin/orders/${orderId}/refund`, {
    method: "POST",
    tenant: slug,
    headers: moneyHeaders(admin, k),
    json: { reason },
  });

/** The scope a sweep gets for a tenant (as the cron builds it). */
export { tenantScopeOf as sweepScope } from "./helpers";

/**
 * Moves a user's VIP schedule `ms` into the past, as if that much time had gone by: every period,
 * what was announced, the next check and the notices sent.
 */
export async function ageVip(slug: string, userId: string, ms: number): Promise<void> {
  const { db } = await tenantDbOf(slug);
  await db.batch([
    db.run(
      sql`UPDATE vip_periods SET starts_at = starts_at - ${ms}, ends_at = ends_at - ${ms} WHERE user_id = ${userId}`,
    ),
    db.run(sql`UPDATE vip_members SET announced_expires_at = announced_expires_at - ${ms},
      next_check_at = next_check_at - ${ms} WHERE user_id = ${userId}`),
    db.run(sql`UPDATE vip_notices SET expires_at = expires_at - ${ms} WHERE user_id = ${userId}`),
  ]);
}
