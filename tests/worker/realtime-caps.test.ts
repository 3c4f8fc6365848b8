import { describe, expect, it } from "vitest";
import { registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem, uniqueSlug } from "./helpers";
import { connect, nth, type Sock } from "./socket-helpers";

/** A valid frame of about `bytes` bytes: a custom body would be capped at 16 KiB, so pad a sync with an unknown field (answered invalid_frame). */
const padded = (bytes: number) => JSON.stringify({ type: "sync", cursors: {}, pad: "x".repeat(bytes - 40) });

async function socketIn(config: Record<string, unknown>): Promise<{ slug: string; s: Sock; token: string }> {
  const t = await createTenant({ config });
  const u = await registerUser(t.slug);
  return { slug: t.slug, s: await connect(t.slug, { token: u.tokens.accessToken }), token: u.tokens.accessToken };
}

describe("per-tenant frame caps", () => {
  it("realtime.maxFrameBytes 2048: a 1.5 KiB frame is served, a 3 KiB frame closes with 1009", async () => {
    const { s } = await socketIn({ realtime: { maxFrameBytes: 2048 } });
    s.send(padded(1536));
    expect(await s.frame("error")).toMatchObject({ code: "invalid_frame" });
    s.send({ type: "sync", cursors: {} });
    await s.frame("synced");
    s.send(padded(3 * 1024));
    expect(await s.closed()).toMatchObject({ code: 1009, reason: "frames are limited to 2048 bytes" });
  });

  it("bytes are counted as UTF-8: 700 CJK characters (2,100 bytes) exceed 2048", async () => {
    const { s } = await socketIn({ realtime: { maxFrameBytes: 2048 } });
    s.send(JSON.stringify({ type: "sync", cursors: {}, pad: "中".repeat(600) }));
    await s.frame("error");
    s.send(JSON.stringify({ type: "sync", cursors: {}, pad: "中".repeat(700) }));
    expect((await s.closed()).code).toBe(1009);
  });

  it("framesPerSecond 2, frameBurst 2: a third frame at once is refused (rate_limited, retryAfterMs), the socket stays, and after the wait it is served", async () => {
    const { s } = await socketIn({ realtime: { framesPerSecond: 2, frameBurst: 2 } });
    for (let i = 0; i < 3; i++) s.send({ type: "sync", cursors: {} });
    const refused = await s.frame("error");
    expect(refused).toMatchObject({ code: "rate_limited" });
    expect(refused.clientId).toBeUndefined();
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(500);
    await nth(s, "synced", 2);
    await new Promise((r) => setTimeout(r, Number(refused.retryAfterMs) + 20));
    s.send({ type: "sync", cursors: {} });
    await nth(s, "synced", 3);
    s.send({ type: "ping" });
    await s.frame("pong");
    expect(s.frames.filter((f) => f.type === "error")).toHaveLength(1);
  });

  it("at framesPerSecond 2 (frameBurst 2), two frames a second go on for good", async () => {
    const { s } = await socketIn({ realtime: { framesPerSecond: 2, frameBurst: 2 } });
    for (let second = 1; second <= 3; second++) {
      s.send({ type: "sync", cursors: {} });
      s.send({ type: "sync", cursors: {} });
      await nth(s, "synced", second * 2);
      await new Promise((r) => setTimeout(r, 1050));
    }
    s.send({ type: "ping" }); // answered by the runtime: it does not count
    await s.frame("pong");
    expect(s.frames.filter((f) => f.type === "error")).toEqual([]);
  });

  it("defaults: a 60 KiB frame is accepted (64 KiB cap), 20 frames in a second are fine", async () => {
    const { s } = await socketIn({});
    s.send(padded(60 * 1024));
    expect(await s.frame("error")).toMatchObject({ code: "invalid_frame" });
    for (let i = 0; i < 19; i++) s.send({ type: "sync", cursors: {} });
    await nth(s, "synced", 19);
    s.send({ type: "ping" });
    await s.frame("pong");
  });

  it("a config change applies to new sockets; an open socket keeps the caps it opened with", async () => {
    const { slug, s: before, token } = await socketIn({});
    const res = await call(`/admin/v1/tenants/${slug}`, {
      method: "PATCH",
      admin: true,
      json: { config: { realtime: { maxFrameBytes: 2048 } } },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    // Merged one level deep: the other key keeps its value.
    expect((await res.json<{ config: { realtime: unknown } }>()).config.realtime).toEqual({
      maxFrameBytes: 2048,
      framesPerSecond: 20,
      frameBurst: 100,
      gateways: 16,
    });
    await new Promise((r) => setTimeout(r, 1100)); // the Worker's tenant cache (TENANT_CACHE_TTL_MS = 1 s in tests)
    const after = await connect(slug, { token });
    before.send(padded(3 * 1024));
    expect(await before.frame("error")).toMatchObject({ code: "invalid_frame" });
    after.send(padded(3 * 1024));
    expect((await after.closed()).code).toBe(1009);
  });

  it("the config is validated: 1 KiB ≤ maxFrameBytes ≤ 1 MiB, 1 ≤ framesPerSecond ≤ 1000, 1 ≤ frameBurst ≤ 10,000, 1 ≤ gateways ≤ 1024, no unknown keys", async () => {
    const create = (realtime: unknown) =>
      call("/admin/v1/tenants", {
        method: "POST",
        admin: true,
        json: { name: "x", slug: uniqueSlug(), config: { realtime } },
      });
    for (const bad of [
      { maxFrameBytes: 1023 },
      { maxFrameBytes: 1024 * 1024 + 1 },
      { framesPerSecond: 0 },
      { framesPerSecond: 1001 },
      { framesPerSecond: 2.5 },
      { frameBurst: 0 },
      { frameBurst: 10_001 },
      { gateways: 0 },
      { gateways: 1025 },
      { gateways: 1.5 },
      { burst: 3 },
    ]) {
      await expectProblem(await create(bad), 400, "validation_failed");
    }
    const t = await createTenant({ config: { realtime: { framesPerSecond: 1000 } } });
    expect((t.config as unknown as { realtime: unknown }).realtime).toEqual({
      maxFrameBytes: 65536,
      framesPerSecond: 1000,
      frameBurst: 100,
      gateways: 16,
    });
    expect(((await createTenant()).config as unknown as { realtime: unknown }).realtime).toEqual({
      maxFrameBytes: 65536,
      framesPerSecond: 20,
      frameBurst: 100,
      gateways: 16,
    });
  });
});
