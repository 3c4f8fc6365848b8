import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { platformDb } from "../../src/db/client";
import { findTenantBySlug } from "../../src/db/platform/tenants";
import { tenantClient, tenantDb, tenantDbLocation } from "../../src/db/tenant-db";
import { settings } from "../../src/db/tenant/schema";
import { openSecret } from "../../src/lib/crypto";
import { createTenant } from "./helpers";

async function locationOf(slug: string) {
  const row = await findTenantBySlug(platformDb(env), slug);
  return { row: row!, loc: await tenantDbLocation(env, row!) };
}

describe("tenant isolation", () => {
  it("rows written through tenant A's handle are invisible through tenant B's", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    const dbA = tenantDb((await locationOf(a.slug)).loc);
    const dbB = tenantDb((await locationOf(b.slug)).loc);
    await dbA.insert(settings).values({ key: "secret-of-a", value: '"A only"', updatedAt: Date.now() }).run();
    const inA = await dbA.select().from(settings).all();
    const inB = await dbB.select().from(settings).all();
    expect(inA.map((r) => r.key)).toContain("secret-of-a");
    expect(inB.map((r) => r.key)).not.toContain("secret-of-a");
  });

  it("tenant A's database credential does not open tenant B's database", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    const la = (await locationOf(a.slug)).loc;
    const lb = (await locationOf(b.slug)).loc;
    const forged = tenantClient({ url: lb.url, token: la.token });
    await expect(forged.execute("SELECT * FROM settings")).rejects.toThrow();
    const anonymous = tenantClient({ url: lb.url, token: "" });
    await expect(anonymous.execute("SELECT 1")).rejects.toThrow();
  });

  it("a sealed credential copied onto another tenant's row does not open", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    const ra = (await locationOf(a.slug)).row;
    const rb = (await locationOf(b.slug)).row;
    await expect(openSecret(env.DB_ENCRYPTION_KEY, ra.dbTokenSealed!, rb.id)).rejects.toThrow();
    await expect(openSecret(env.DB_ENCRYPTION_KEY, ra.dbTokenSealed!, ra.id)).resolves.toBeTypeOf("string");
  });
});
