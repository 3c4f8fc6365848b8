import { beforeAll, describe, expect, it } from "vitest";
import { as, bearer, registerUser } from "./auth-helpers";
import { commerceTenant, type Product, product, type User } from "./commerce-helpers";
import { call, expectProblem } from "./helpers";

/** The catalogue's admin routes against the callers and bodies that must not get through. */
describe("products", () => {
  let slug: string;
  let owner: { tokens: User["tokens"] };
  let member: User;
  let p: Product;
  const quota = { kind: "ai_quota", price: { amount: 100, currency: "CNY" }, grants: { units: 5 } };

  beforeAll(async () => {
    ({ slug, owner } = await commerceTenant({
      commerce: { currencies: ["CNY"], virtualCurrencies: [{ code: "COIN", name: "Coins" }] },
    }));
    member = await registerUser(slug);
    p = await product(slug, owner, { ...quota, sku: "quota-5" });
  });

  const create = (json: Record<string, unknown>, who = owner) =>
    call("/v1/admin/products", {
      method: "POST",
      ...as(slug, who),
      json: { sku: `s-${crypto.randomUUID().slice(0, 8)}`, name: "x", ...json },
    });

  it("a member or another tenant's admin cannot touch the catalogue; a key needs products:write", async () => {
    await expectProblem(await create(quota, member), 403, "forbidden");
    await expectProblem(
      await call(`/v1/admin/products/${p.id}`, { method: "PATCH", ...as(slug, member), json: { active: false } }),
      403,
      "forbidden",
    );
    await expectProblem(
      await call(`/v1/admin/products/${p.id}`, { method: "DELETE", ...as(slug, member) }),
      403,
      "forbidden",
    );
    const { slug: other, owner: theirs } = await commerceTenant();
    await expectProblem(
      await call(`/v1/admin/products/${p.id}`, { method: "PATCH", ...as(other, theirs), json: { active: false } }),
      404,
      "product_not_found",
    );
    await expectProblem(
      await call(`/v1/admin/products/${p.id}`, { method: "DELETE", ...as(other, theirs) }),
      404,
      "product_not_found",
    );
    const key = await (
      await call("/v1/admin/api-keys", {
        method: "POST",
        ...as(slug, owner),
        json: { name: "reader", permissions: ["orders:read"] },
      })
    ).json<{ key: string }>();
    await expectProblem(await call("/v1/admin/products", { tenant: slug, headers: bearer(key.key) }), 403, "forbidden");
    await expectProblem(
      await call("/v1/admin/products", { tenant: slug, headers: bearer("forged.token.value") }),
      401,
      "invalid_token",
    );
    expect(await (await call(`/v1/products`, as(slug, member))).json()).toMatchObject({
      items: [expect.objectContaining({ id: p.id })],
    });
  });

  it("an sku is taken for good, also by a deleted product, and by a parallel create", async () => {
    await expectProblem(await create({ ...quota, sku: "quota-5" }), 409, "sku_taken");
    const racing = await Promise.all(Array.from({ length: 5 }, () => create({ ...quota, sku: "race-1" })));
    expect(racing.map((r) => r.status).sort()).toEqual([201, 409, 409, 409, 409]);
    const gone = await product(slug, owner, { ...quota, sku: "gone-1" });
    expect((await call(`/v1/admin/products/${gone.id}`, { method: "DELETE", ...as(slug, owner) })).status).toBe(204);
    await expectProblem(
      await call(`/v1/admin/products/${gone.id}`, { method: "DELETE", ...as(slug, owner) }),
      404,
      "product_not_found",
    );
    await expectProblem(await create({ ...quota, sku: "gone-1" }), 409, "sku_taken");
    await expectProblem(
      await call(`/v1/admin/products/${p.id}`, { method: "PATCH", ...as(slug, owner), json: { sku: "race-1" } }),
      409,
      "sku_taken",
    );
  });

  it("refuses grants that do not fit the kind, prices that are not money, and text that deceives", async () => {
    const bad: [Record<string, unknown>, number, string][] = [
      [{ kind: "vip", price: quota.price, grants: { level: 9, days: 30 } }, 400, "validation_failed"],
      [{ kind: "vip", price: quota.price, grants: { level: 1 } }, 400, "validation_failed"],
      [{ kind: "ai_quota", price: quota.price, grants: { units: 0 } }, 400, "validation_failed"],
      [{ kind: "ai_quota", price: quota.price, grants: { units: 5, extra: 1 } }, 400, "validation_failed"],
      [{ kind: "content", price: quota.price, grants: { postId: "01nosuchpost" } }, 400, "validation_failed"],
      [{ kind: "content", price: quota.price, grants: {} }, 400, "validation_failed"],
      // A real currency is bought with a top-up, never granted; a code the tenant does not know is refused as such.
      [
        { kind: "currency", price: { amount: 5, currency: "COIN" }, grants: { amount: 5, currency: "CNY" } },
        400,
        "validation_failed",
      ],
      [{ kind: "currency", price: quota.price, grants: { amount: 5, currency: "USD" } }, 400, "currency_not_supported"],
      [
        { kind: "currency", price: { amount: 5, currency: "COIN" }, grants: { amount: 5, currency: "COIN" } },
        422,
        "currency_mismatch",
      ],
      [{ kind: "ai_quota", price: { amount: 1.5, currency: "CNY" }, grants: { units: 1 } }, 400, "validation_failed"],
      [
        { kind: "ai_quota", price: { amount: 100, currency: "EUR" }, grants: { units: 1 } },
        400,
        "currency_not_supported",
      ],
      [{ kind: "ai_quota", price: quota.price, grants: { units: 1 }, name: "a\u202eb" }, 400, "validation_failed"],
      [{ kind: "ai_quota", price: quota.price, grants: { units: 1 }, name: "x".repeat(121) }, 400, "validation_failed"],
      [{ kind: "nft", price: quota.price, grants: {} }, 400, "validation_failed"],
    ];
    for (const [json, status, code] of bad) await expectProblem(await create(json), status, code);
    await expectProblem(
      await call(`/v1/admin/products/${p.id}`, { method: "PATCH", ...as(slug, owner), json: { kind: "vip" } }),
      400,
      "validation_failed",
    );
    await expectProblem(
      await call(`/v1/admin/products/${p.id}`, {
        method: "PATCH",
        ...as(slug, owner),
        json: { grants: { units: -1 } },
      }),
      400,
      "validation_failed",
    );
    // Nothing refused changed the product.
    expect(await (await call(`/v1/admin/products?limit=100`, as(slug, owner))).json()).toMatchObject({
      items: expect.arrayContaining([expect.objectContaining({ id: p.id, grants: { units: 5 }, kind: "ai_quota" })]),
    });
  });
});
