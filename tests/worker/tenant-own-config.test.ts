import { describe, expect, it } from "vitest";
import { as, bearer, registerUser, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";

describe("a tenant's own config (GET/PATCH /v1/admin/config)", () => {
  it("the owner reads it and changes its own sections; the operator's stay the operator's; errors carry their paths", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    const o = { tenant: t.slug, headers: bearer(owner.tokens.accessToken) };
    const got = await call("/v1/admin/config", o);
    expect(got.status).toBe(200);
    const before = await got.json<{ config: { content: { maxPostChars: number } }; editable: string[] }>();
    expect(before.editable).toContain("content");
    expect(before.editable).not.toContain("limits");

    const changed = await call("/v1/admin/config", {
      ...o,
      method: "PATCH",
      json: { content: { maxPostChars: 777 }, allowedOrigins: ["https://app.example.com"] },
    });
    expect(changed.status, await changed.clone().text()).toBe(200);
    const after = await changed.json<{ config: { content: { maxPostChars: number }; allowedOrigins: string[] } }>();
    expect(after.config.content.maxPostChars).toBe(777);
    expect(after.config.allowedOrigins).toEqual(["https://app.example.com"]);
    // The operator's view agrees: one config.
    const platform = await (await call(`/admin/v1/tenants/${t.slug}`, { admin: true })).json<{
      config: { content: { maxPostChars: number } };
    }>();
    expect(platform.config.content.maxPostChars).toBe(777);

    const limits = await expectProblem(
      await call("/v1/admin/config", { ...o, method: "PATCH", json: { limits: { requestsPerMinute: 1_000_000 } } }),
      400,
      "validation_failed",
    );
    expect(limits.errors).toEqual([{ path: "limits", message: "is set by the platform operator, not by the tenant" }]);
    const bad = await expectProblem(
      await call("/v1/admin/config", { ...o, method: "PATCH", json: { content: { maxPostChars: "many" } } }),
      400,
      "validation_failed",
    );
    expect(bad.errors?.[0]).toMatchObject({ path: "content.maxPostChars" });
    for (const body of ["[]", "null", '{"content":', JSON.stringify({ content: { nope: 1 } })])
      expect(
        (
          await call("/v1/admin/config", {
            ...o,
            method: "PATCH",
            body,
            headers: { ...o.headers, "content-type": "application/json" },
          })
        ).status,
      ).toBe(400);
    // Nothing of the refused patches landed.
    const now = await (await call("/v1/admin/config", o)).json<{ config: { content: { maxPostChars: number } } }>();
    expect(now.config.content.maxPostChars).toBe(777);
  });

  it("only holders of config:read / config:write (the owner) may; another tenant's token is refused", async () => {
    const { tenant: t, owner } = await tenantWithOwner();
    const admin = await registerUser(t.slug);
    const roles = await call(`/v1/admin/users/${admin.userId}/roles`, {
      method: "PUT",
      tenant: t.slug,
      headers: bearer(owner.tokens.accessToken),
      json: { roles: ["admin"] },
    });
    expect(roles.status, await roles.clone().text()).toBe(200);
    await expectProblem(await call("/v1/admin/config", as(t.slug, admin)), 403, "forbidden");
    await expectProblem(
      await call("/v1/admin/config", { ...as(t.slug, admin), method: "PATCH", json: { content: { maxPostChars: 5 } } }),
      403,
      "forbidden",
    );
    const member = await registerUser(t.slug);
    await expectProblem(await call("/v1/admin/config", as(t.slug, member)), 403, "forbidden");
    const other = await tenantWithOwner();
    expect(
      (await call("/v1/admin/config", { tenant: t.slug, headers: bearer(other.owner.tokens.accessToken) })).status,
    ).toBe(401);
  });
});
