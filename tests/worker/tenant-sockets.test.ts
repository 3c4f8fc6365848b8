import { describe, expect, it } from "vitest";
import { registerUser, secondDevice, tenantWithOwner } from "./auth-helpers";
import { call, expectProblem } from "./helpers";
import { connect } from "./socket-helpers";

describe("tenant suspension and deletion end live sockets", () => {
  it("suspending a tenant sends every socket a final frame and closes it; new connections are refused until resumed", async () => {
    const { tenant } = await tenantWithOwner();
    const [alice, bob] = [await registerUser(tenant.slug), await registerUser(tenant.slug)];
    const phone = await secondDevice(tenant.slug, alice);
    const sockets = [
      await connect(tenant.slug, { token: alice.tokens.accessToken }),
      await connect(tenant.slug, { token: phone.accessToken }),
      await connect(tenant.slug, { token: bob.tokens.accessToken }),
    ];
    const other = await tenantWithOwner();
    const stranger = await registerUser(other.tenant.slug);
    const bystander = await connect(other.tenant.slug, { token: stranger.tokens.accessToken });

    expect((await call(`/admin/v1/tenants/${tenant.slug}/suspend`, { method: "POST", admin: true })).status).toBe(200);
    for (const s of sockets) {
      const closed = await s.until(() => s.frames.find((f) => f.type === "closed"), "closed frame", 15_000);
      expect(closed.reason).toBe("tenant_suspended");
      expect((await s.closed()).code).toBe(4001);
    }
    // Another tenant's socket is untouched.
    bystander.send({ type: "ping" });
    await bystander.frame("pong");
    expect(bystander.frames.some((f) => f.type === "closed")).toBe(false);

    await expectProblem(
      await call("/v1/realtime", {
        tenant: tenant.slug,
        headers: { upgrade: "websocket", authorization: `Bearer ${bob.tokens.accessToken}` },
      }),
      403,
      "tenant_suspended",
    );
    expect((await call(`/admin/v1/tenants/${tenant.slug}/resume`, { method: "POST", admin: true })).status).toBe(200);
    // The tenant cache of this isolate was cleared by the admin call: connecting works again.
    const again = await connect(tenant.slug, { token: bob.tokens.accessToken });
    again.send({ type: "ping" });
    await again.frame("pong");
  });

  it("deleting a tenant closes its sockets too", async () => {
    const { tenant } = await tenantWithOwner();
    const alice = await registerUser(tenant.slug);
    const s = await connect(tenant.slug, { token: alice.tokens.accessToken });
    expect((await call(`/admin/v1/tenants/${tenant.slug}`, { method: "DELETE", admin: true })).status).toBe(200);
    const closed = await s.until(() => s.frames.find((f) => f.type === "closed"), "closed frame", 15_000);
    expect(closed.reason).toBe("tenant_deleted");
  });
});
