import { describe, expect, it } from "vitest";
import { tenantClient } from "../../src/db/tenant-db";
import { backfillUsernameSkeletons } from "../../src/db/tenant-migrate";
import { singleScript, usernameSkeleton } from "../../src/lib/username-skeleton";
import { password } from "./auth-helpers";
import { call, createTenant, expectProblem, tenantDbOf } from "./helpers";

const register = (slug: string, username: string, n: number) =>
  call("/v1/auth/register", {
    method: "POST",
    tenant: slug,
    json: { username, password: password() },
    headers: { "cf-connecting-ip": `10.9.0.${n}` },
  });

describe("look-alike usernames (UTS #39 skeletons)", () => {
  it("skeletons make confusable characters coincide; scripts may not be mixed", () => {
    expect(usernameSkeleton("аdmin")).toBe(usernameSkeleton("admin")); // Cyrillic а
    expect(usernameSkeleton("adмin")).toBe(usernameSkeleton("admin")); // Cyrillic м
    expect(usernameSkeleton("g00gle")).toBe(usernameSkeleton("google"));
    expect(usernameSkeleton("paypa1")).toBe(usernameSkeleton("paypal"));
    expect(usernameSkeleton("modern")).toBe(usernameSkeleton("modem")); // rn / m
    expect(usernameSkeleton("alice")).not.toBe(usernameSkeleton("alicf"));
    expect(singleScript("alice_01")).toBe(true);
    expect(singleScript("иван")).toBe(true);
    expect(singleScript("tanaka太郎")).toBe(true);
    expect(singleScript("김민준kim")).toBe(true);
    expect(singleScript("adмin")).toBe(false);
    expect(singleScript("pаypal")).toBe(false);
  });

  it("a look-alike of a taken username does not register in the same tenant; it does in another", async () => {
    const t = await createTenant();
    const base = `admin${crypto.randomUUID().slice(0, 6)}`;
    expect((await register(t.slug, base, 1)).status).toBe(201);
    // Whole-script Cyrillic look-alike (every letter Cyrillic) of an all-Latin name.
    expect((await register(t.slug, "mom", 2)).status).toBe(201);
    await expectProblem(await register(t.slug, "мом", 3), 409, "account_unavailable");
    await expectProblem(await register(t.slug, base.replace("a", "а"), 4), 400, "validation_failed"); // mixed scripts
    await expectProblem(await register(t.slug, base.replace("m", "rn"), 5), 409, "account_unavailable");
    await expectProblem(await register(t.slug, base.toUpperCase(), 6), 409, "account_unavailable");
    const other = await createTenant();
    expect((await register(other.slug, "мом", 7)).status).toBe(201);
  });

  it("the backfill gives existing users their skeletons, so look-alikes of old names are refused too", async () => {
    const t = await createTenant();
    expect((await register(t.slug, "modernfan", 8)).status).toBe(201);
    const client = tenantClient((await tenantDbOf(t.slug)).location);
    // As if these accounts predated migration 12: two old names with one skeleton.
    await client.execute("UPDATE users SET username_skeleton = NULL WHERE username = 'modernfan'");
    expect((await register(t.slug, "modemfan", 9)).status).toBe(201);
    await client.execute("UPDATE users SET username_skeleton = NULL WHERE username = 'modemfan'");
    // The first keeps the skeleton, the second stays unset (both accounts stay valid).
    expect(await backfillUsernameSkeletons(client)).toBe(1);
    expect(await backfillUsernameSkeletons(client)).toBe(0);
    await expectProblem(await register(t.slug, "rnodernfan", 10), 409, "account_unavailable");
    await expectProblem(await register(t.slug, "modernfаn", 11), 400, "validation_failed");
  });
});
