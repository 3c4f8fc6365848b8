import { env } from "cloudflare:test";
import { LibsqlError } from "@libsql/client/web";
import { describe, expect, it } from "vitest";
import { tenantClient } from "../../src/db/tenant-db";
import { settings } from "../../src/db/tenant/schema";
import { openSecret } from "../../src/lib/crypto";
import { createTenant, tenantDbOf } from "./helpers";

describe("tenant isolation", () => {
  it("rows written through tenant A's handle are invisible through tenant B's", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    const dbA = (await tenantDbOf(a.slug)).db;
    const dbB = (await tenantDbOf(b.slug)).db;
    await dbA.insert(settings).values({ key: "secret-of-a", value: '"A only"', updatedAt: Date.now() }).run();
    const inA = await dbA.select().from(settings).all();
    const inB = await dbB.select().from(settings).all();
    expect(inA.map((r) => r.key)).toContain("secret-of-a");
    expect(inB.map((r) => r.key)).not.toContain("secret-of-a");
  });

  it("tenant A's database credential does not open tenant B's database", async () => {
    const [a, b] = [await createTenant(), await createTenant()];
    const la = (await tenantDbOf(a.slug)).location;
    const lb = (await tenantDbOf(b.slug)).location;
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
    const ra = (await tenantDbOf(a.slug)).row;
    const rb = (await tenantDbOf(b.slug)).row;
    // AES-GCM's authentication check fails: the row id is bound in as additional data.
    await expect(openSecret(env.DB_ENCRYPTION_KEY, ra.dbTokenSealed!, rb.id)).rejects.toMatchObject({
      name: "OperationError",
    });
    await expect(openSecret(env.DB_ENCRYPTION_KEY, ra.dbTokenSealed!, ra.id)).resolves.toBeTypeOf("string");
  });
});
