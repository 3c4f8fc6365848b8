import { and, asc, eq, gt, inArray, isNull, sql } from "drizzle-orm";
import type { TenantDb } from "../client";
import { type ProductRow, products } from "./schema";

/** The catalogue (migrations/tenant/0023): products by id and sku, soft-deleted, versioned. */

/** Inserts a product; false when its sku is taken (by a live or a deleted product). */
export async function insertProduct(db: TenantDb, p: ProductRow): Promise<boolean> {
  const res = await db.insert(products).values(p).onConflictDoNothing({ target: products.sku });
  return res.rowsAffected === 1;
}

export async function findProduct(db: TenantDb, id: string): Promise<ProductRow | undefined> {
  const [row] = await db
    .select()
    .from(products)
    .where(and(eq(products.id, id), isNull(products.deletedAt)))
    .limit(1);
  return row;
}

/** The query for live products by id (one statement, for an order's read batch). */
export function productsByIdsQuery(db: TenantDb, ids: string[]) {
  return db
    .select()
    .from(products)
    .where(and(inArray(products.id, ids), isNull(products.deletedAt)));
}

/**
 * Writes a changed product, moving its version, only if it is still at the version it was read
 * at (a concurrent change wins and this one answers a conflict). 'taken' when the new sku is
 * another product's.
 */
export async function updateProduct(
  db: TenantDb,
  next: ProductRow,
  readVersion: number,
): Promise<"ok" | "taken" | "stale"> {
  const taken = await db
    .select({ id: products.id })
    .from(products)
    .where(and(eq(products.sku, next.sku), sql`${products.id} <> ${next.id}`))
    .limit(1);
  if (taken.length) return "taken";
  try {
    const res = await db
      .update(products)
      .set({ ...next, version: readVersion + 1 })
      .where(and(eq(products.id, next.id), eq(products.version, readVersion), isNull(products.deletedAt)));
    return res.rowsAffected === 1 ? "ok" : "stale";
  } catch (err) {
    if (String((err as { cause?: unknown }).cause ?? err).includes("UNIQUE")) return "taken";
    throw err;
  }
}

/** Soft-deletes a product (orders keep their snapshot); false when there was none. */
export async function deleteProduct(db: TenantDb, id: string, now: number): Promise<boolean> {
  const res = await db
    .update(products)
    .set({ deletedAt: now, active: false, updatedAt: now, version: sql`${products.version} + 1` })
    .where(and(eq(products.id, id), isNull(products.deletedAt)));
  return res.rowsAffected === 1;
}

/** A page of live products in id order, optionally only active ones or of one kind. */
export async function productPage(
  db: TenantDb,
  q: {
    active?: boolean | undefined;
    kind?: ProductRow["kind"] | undefined;
    limit: number;
    afterId?: string | undefined;
  },
): Promise<ProductRow[]> {
  return db
    .select()
    .from(products)
    .where(
      and(
        isNull(products.deletedAt),
        q.active === undefined ? undefined : eq(products.active, q.active),
        q.kind ? eq(products.kind, q.kind) : undefined,
        q.afterId ? gt(products.id, q.afterId) : undefined,
      ),
    )
    .orderBy(asc(products.id))
    .limit(q.limit);
}
