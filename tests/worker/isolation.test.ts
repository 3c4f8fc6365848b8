import { env } from "cloudflare:test";
import { LibsqlError } from "@libsql/client/web";
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
    // Refused by the server's auth check (not, say, a missing table or a network error).
    const forged = tenantClient({ url: lb.url, token: la.token });
    const forgedError = await forged.execute("SELECT * FROM settings").catch((e: unknown) => e);
    expect(forgedError).toBeInstanceOf(LibsqlError);
    expect((forgedError as LibsqlError).code).toBe("UNAUTHORIZED");
    const anonymous = tenantClient({ url: lb.url, token: "" });
    const anonymousError = await anonymous.execute("SELECT 1").catch((e: unknown) => e);
    expect(anonymousError).toBeInstanceOf(LibsqlError);
    expect((anonymousError as LibsqlError).code).toBe("UNAUTHORIZED");
  });

  it("a sealed credential copied onto another tenant's row does not open", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    const ra = (await locationOf(a.slug)).row;
    const rb = (await locationOf(b.slug)).row;
    // AES-GCM's authentication check fails: the row id is bound in as additional data.
    await expect(openSecret(env.DB_ENCRYPTION_KEY, ra.dbTokenSealed!, rb.id)).rejects.toMatchObject({
      name: "OperationError",
    });
    await expect(openSecret(env.DB_ENCRYPTION_KEY, ra.dbTokenSealed!, ra.id)).resolves.toBeTypeOf("string");
  });
});
