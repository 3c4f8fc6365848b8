/**
 * Brings up what the commerce benchmark measures, on loopback, in a scratch directory: the local
 * libSQL server and the built bundle under raw workerd (../servers.ts, queue producers bound to a
 * sink so the outbox publishes after the response as in production); tenant `commerce-a` with an
 * owner, created through the admin API; one active product (ai_quota, 1 CNY, `{ units: 1 }`)
 * created by the owner through `POST /v1/admin/products`; {@link USERS} users registered through
 * the API; every wallet funded with a balanced `adjustment` (promotions → wallet, postingOps'
 * own SQL) written straight into the tenant's file; then the floor (floor.ts) on a copy of it.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "libsql";
import type { ProductRow } from "../../src/db/tenant/schema";
import { authHeaders, registerUsers, type Session, tokensOf, userIdOf } from "../auth-users";
import { createTenant, progress, startFloor, startServers } from "../servers";
import { TENANT_CONFIG } from "../stack";
import { Engine, openTenantFile } from "./engine";
import type { FloorPlan } from "./floor";
import { fundingBatch } from "./queries";

export const TENANT = "commerce-a";
/** Users: index 0 orders serially, 1 … 1,000 in parallel. */
export const USERS = 1_001;
/** The product's price (1 CNY in minor units) and every wallet's starting balance (1,000,000 CNY). */
export const PRICE = 100;
export const START_BALANCE = 100_000_000;
const OWNER = { email: "owner@commerce-a.bench", password: "plum orchard lantern ferry 42" };

export interface User extends Session {
  userId: string;
}

export interface CommerceStack {
  workerOrigin: string;
  floorOrigin: string;
  workerdLog: string;
  /** The tenant's database file (the route's) and the floor's copy. */
  file: string;
  floorFile: string;
  ownerToken: string;
  productId: string;
  users: User[];
}

async function login(origin: string, identifier: string, password: string): Promise<string> {
  const res = await fetch(`${origin}/v1/auth/login`, {
    method: "POST",
    headers: authHeaders(TENANT),
    body: JSON.stringify({ identifier, password }),
    signal: AbortSignal.timeout(60_000),
  });
  return tokensOf(`login ${identifier}`, res.status, 200, await res.text()).accessToken;
}

/** The product's row as the route reads it (camelCase, as drizzle maps it). */
function productRow(file: string, id: string): ProductRow {
  const db = new Database(file, { readonly: true });
  try {
    const r = db.prepare("SELECT * FROM products WHERE id = ?").get(id) as Record<string, unknown> | undefined;
    if (!r) throw new Error(`product ${id} not in ${file}`);
    return {
      id: String(r.id),
      sku: String(r.sku),
      name: String(r.name),
      kind: r.kind as ProductRow["kind"],
      priceAmount: Number(r.price_amount),
      priceCurrency: String(r.price_currency),
      grants: String(r.grants),
      active: Number(r.active) === 1,
      version: Number(r.version),
      deletedAt: r.deleted_at === null ? null : Number(r.deleted_at),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    };
  } finally {
    db.close();
  }
}

/** Funds every wallet in one transaction of balanced adjustments; then copies the file for the floor. */
async function fund(file: string, floorFile: string, users: User[]): Promise<void> {
  const db = openTenantFile(file);
  try {
    const engine = new Engine(db);
    const now = Date.now();
    const statements = [];
    for (const u of users) statements.push(...(await fundingBatch(u.userId, BigInt(START_BALANCE), "CNY", now)));
    engine.batch(statements);
    db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    db.prepare("VACUUM INTO ?").run(floorFile);
  } finally {
    db.close();
  }
}

export async function startCommerceStack(root: string, scratch: string, bundle: string): Promise<CommerceStack> {
  const { workerOrigin, workerdLog, adminToken } = await startServers(root, scratch, bundle, undefined, {
    queueSink: true,
  });
  progress(`creating tenant '${TENANT}' with an owner`);
  const name = await createTenant(workerOrigin, adminToken, {
    slug: TENANT,
    name: TENANT,
    config: TENANT_CONFIG,
    owner: OWNER,
  });
  const file = join(scratch, "libsql", `${name}.db`);
  const ownerToken = await login(workerOrigin, OWNER.email, OWNER.password);

  const res = await fetch(`${workerOrigin}/v1/admin/products`, {
    method: "POST",
    headers: { "x-tenant": TENANT, authorization: `Bearer ${ownerToken}`, "content-type": "application/json" },
    body: JSON.stringify({
      sku: "ai-units-1",
      name: "One AI unit",
      kind: "ai_quota",
      price: { amount: PRICE, currency: "CNY" },
      grants: { units: 1 },
    }),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /v1/admin/products: ${res.status} ${text.slice(0, 300)}`);
  const productId = (JSON.parse(text) as { id: string }).id;

  progress(`registering ${USERS} users (PBKDF2 each: about a minute)`);
  const sessions = await registerUsers(
    workerOrigin,
    TENANT,
    Array.from({ length: USERS }, (_, i) => `buyer-${i}`),
  );
  const users = sessions.map((s) => ({ ...s, userId: userIdOf(s.accessToken) }));

  progress(`funding ${USERS} wallets with ${START_BALANCE} CNY minor units each (balanced adjustments)`);
  const floorFile = join(scratch, "floor.db");
  await fund(file, floorFile, users);

  const planFile = join(scratch, "floor-plan.json");
  const plan: FloorPlan = { db: floorFile, users: users.map((u) => u.userId), product: productRow(file, productId) };
  writeFileSync(planFile, JSON.stringify(plan));
  const floor = await startFloor(root, scratch, "commerce", "bench/commerce/floor.ts", "--plan", planFile);
  return { workerOrigin, floorOrigin: floor.origin, workerdLog, file, floorFile, ownerToken, productId, users };
}
