import { env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { doName } from "../../src/durable/names";
import { REFRESH_GRACE_MS } from "../../src/durable/user-hub";
import { bearer, login, registerUser, type Tokens } from "./auth-helpers";
import { call, createTenant, expectProblem } from "./helpers";

const refresh = (tenant: string, refreshToken: string) =>
  call("/v1/auth/refresh", { method: "POST", tenant, json: { refreshToken } });

describe("refresh tokens", () => {
  it("rotate on every use; concurrent refreshes of one token get the same successor", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const [a, b, c] = await Promise.all([
      refresh(t.slug, u.tokens.refreshToken),
      refresh(t.slug, u.tokens.refreshToken),
      refresh(t.slug, u.tokens.refreshToken),
    ]);
    const bodies = await Promise.all([a!, b!, c!].map((r) => r.json<Tokens>()));
    expect(new Set(bodies.map((x) => x.refreshToken)).size).toBe(1);
    expect(bodies[0]!.refreshToken).not.toBe(u.tokens.refreshToken);
    expect(bodies[0]!.sessionId).toBe(u.tokens.sessionId);
    const next = await refresh(t.slug, bodies[0]!.refreshToken);
    expect(next.status).toBe(200);
  });

  it("revoke the whole session when a rotated token is reused after the grace window", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const hub = env.USER_HUB.get(env.USER_HUB.idFromName(doName(t.id, u.userId)));
    const first = await hub.refresh(u.tokens.refreshToken);
    expect(first.ok).toBe(true);
    // The attacker (or a stale client) replays the old token after the grace window.
    const replay = await hub.refresh(u.tokens.refreshToken, Date.now() + REFRESH_GRACE_MS + 1000);
    expect(replay).toMatchObject({ ok: false, code: "refresh_token_reused" });
    // The legitimate successor no longer works either, nor the access token: the family is gone.
    if (first.ok) await expectProblem(await refresh(t.slug, first.value.refreshToken), 401, "invalid_refresh_token");
    await expectProblem(
      await call("/v1/me", { tenant: t.slug, headers: bearer(u.tokens.accessToken) }),
      401,
      "session_revoked",
    );
  });

  it("reject garbage, other users' and other tenants' refresh tokens", async () => {
    const t = await createTenant();
    const t2 = await createTenant();
    const u = await registerUser(t.slug);
    await expectProblem(await refresh(t.slug, "rt1.garbage"), 401, "invalid_refresh_token");
    await expectProblem(await refresh(t2.slug, u.tokens.refreshToken), 401, "invalid_refresh_token");
    const forged = u.tokens.refreshToken.replace(/\.[^.]+$/, `.${"A".repeat(43)}`);
    await expectProblem(await refresh(t.slug, forged), 401, "invalid_refresh_token");
    await expectProblem(
      await call("/v1/auth/refresh", {
        method: "POST",
        tenant: t.slug,
        body: "{",
        headers: { "content-type": "application/json" },
      }),
      400,
      "malformed_json",
    );
  });
});

describe("sessions", () => {
  it("sign-ins of one device at once leave that device one live session, whose token alone refreshes", async () => {
    const t = await createTenant();
    const device = { id: "d-race", name: "phone", platform: "ios" };
    const u = await registerUser(t.slug, { device });
    const hub = env.USER_HUB.get(env.USER_HUB.idFromName(doName(t.id, u.userId)));
    const policy = {
      maxSessions: 10,
      perPlatform: {},
      overflow: "evict_oldest" as const,
      idleMs: 3_600_000,
      absoluteMs: 86_400_000,
    };
    const open = (sessionId: string) =>
      hub.createSession({
        tenantId: t.id,
        userId: u.userId,
        sessionId,
        device,
        ip: "10.0.0.1",
        userAgent: "t",
        policy,
        now: Date.now(),
      });
    const opened = await Promise.all(["a", "b", "c", "d"].map((x) => x.repeat(26)).map(open));
    expect(opened.every((r) => r.ok)).toBe(true);
    const live = (await hub.listSessions()).filter((s) => s.deviceId === device.id);
    expect(live).toHaveLength(1);
    const refreshed = await Promise.all(opened.map((r) => (r.ok ? hub.refresh(r.value.refreshToken) : null)));
    expect(refreshed.filter((r) => r?.ok)).toHaveLength(1);
    await expectProblem(await refresh(t.slug, u.tokens.refreshToken), 401, "invalid_refresh_token");
  });
  it("HTML in device names and user agents is stored as sent and only ever served as inert JSON", async () => {
    const t = await createTenant();
    const html = `<img src=x onerror="alert(1)">`;
    const u = await registerUser(t.slug, { device: { id: "d-1", name: html, platform: "web" } });
    await login(
      t.slug,
      u.username,
      u.password,
      { "user-agent": `<script>alert(2)</script>` },
      { id: "d-2", name: "</title><svg onload=alert(3)>", platform: "web" },
    );
    const res = await call("/v1/auth/sessions", { tenant: t.slug, headers: bearer(u.tokens.accessToken) });
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
    const list = await res.json<{ items: { device: { name: string }; userAgent: string }[] }>();
    expect(list.items.map((s) => s.device.name).sort()).toEqual(["</title><svg onload=alert(3)>", html].sort());
    expect(list.items.map((s) => s.userAgent)).toContain("<script>alert(2)</script>");
  });

  it("one per device; list, revoke one (immediately), revoke others, logout", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { device: { id: "phone-1", name: "Pixel", platform: "android" } });
    const laptop = await (
      await login(t.slug, u.username, u.password, {}, { id: "laptop-1", name: "MacBook", platform: "desktop" })
    ).json<Tokens>();
    const again = await (
      await login(t.slug, u.username, u.password, {}, { id: "laptop-1", name: "MacBook", platform: "desktop" })
    ).json<Tokens>();
    const list = await (await call("/v1/auth/sessions", { tenant: t.slug, headers: bearer(again.accessToken) })).json<{
      items: { id: string; current: boolean; device: { id: string } }[];
    }>();
    expect(list.items.map((s) => s.device.id).sort()).toEqual(["laptop-1", "phone-1"]); // the second laptop login replaced the first
    expect(list.items.find((s) => s.current)?.id).toBe(again.sessionId);
    await expectProblem(
      await call("/v1/me", { tenant: t.slug, headers: bearer(laptop.accessToken) }),
      401,
      "session_revoked",
    );

    const del = await call(`/v1/auth/sessions/${u.tokens.sessionId}`, {
      method: "DELETE",
      tenant: t.slug,
      headers: bearer(again.accessToken),
    });
    expect(del.status).toBe(204);
    await expectProblem(
      await call("/v1/me", { tenant: t.slug, headers: bearer(u.tokens.accessToken) }),
      401,
      "session_revoked",
    );
    await expectProblem(
      await call(`/v1/auth/sessions/${u.tokens.sessionId}`, {
        method: "DELETE",
        tenant: t.slug,
        headers: bearer(again.accessToken),
      }),
      404,
      "session_not_found",
    );

    const other = await registerUser(t.slug);
    // Another user's session id is unknown in this user's hub.
    await expectProblem(
      await call(`/v1/auth/sessions/${other.tokens.sessionId}`, {
        method: "DELETE",
        tenant: t.slug,
        headers: bearer(again.accessToken),
      }),
      404,
      "session_not_found",
    );
    expect((await call("/v1/me", { tenant: t.slug, headers: bearer(other.tokens.accessToken) })).status).toBe(200);

    const s3 = await (
      await login(t.slug, u.username, u.password, {}, { id: "tablet", name: "iPad", platform: "ios" })
    ).json<Tokens>();
    const ro = await call("/v1/auth/sessions/revoke-others", {
      method: "POST",
      tenant: t.slug,
      headers: bearer(again.accessToken),
    });
    expect(await ro.json()).toEqual({ revoked: 1 });
    await expectProblem(
      await call("/v1/me", { tenant: t.slug, headers: bearer(s3.accessToken) }),
      401,
      "session_revoked",
    );

    expect(
      (await call("/v1/auth/logout", { method: "POST", tenant: t.slug, headers: bearer(again.accessToken) })).status,
    ).toBe(204);
    await expectProblem(
      await call("/v1/me", { tenant: t.slug, headers: bearer(again.accessToken) }),
      401,
      "session_revoked",
    );
    await expectProblem(await refresh(t.slug, again.refreshToken), 401, "invalid_refresh_token");
  });

  it("a password change signs out the other sessions, keeps this one, and needs the current password", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const other = await (
      await login(t.slug, u.username, u.password, {}, { id: "d2", name: "", platform: "web" })
    ).json<Tokens>();
    await expectProblem(
      await call("/v1/auth/password", {
        method: "POST",
        tenant: t.slug,
        headers: bearer(u.tokens.accessToken),
        json: { currentPassword: "not-it-at-all", newPassword: "another long passphrase 9" },
      }),
      401,
      "invalid_credentials",
    );
    await expectProblem(
      await call("/v1/auth/password", {
        method: "POST",
        tenant: t.slug,
        headers: bearer(u.tokens.accessToken),
        json: { currentPassword: u.password, newPassword: "password123" },
      }),
      400,
      "weak_password",
    );
    const ok = await call("/v1/auth/password", {
      method: "POST",
      tenant: t.slug,
      headers: bearer(u.tokens.accessToken),
      json: { currentPassword: u.password, newPassword: "another long passphrase 9" },
    });
    expect(ok.status).toBe(204);
    expect((await call("/v1/me", { tenant: t.slug, headers: bearer(u.tokens.accessToken) })).status).toBe(200);
    await expectProblem(
      await call("/v1/me", { tenant: t.slug, headers: bearer(other.accessToken) }),
      401,
      "session_revoked",
    );
    expect((await login(t.slug, u.username, u.password)).status).toBe(401);
    expect((await login(t.slug, u.username, "another long passphrase 9")).status).toBe(200);
  });

  it("enforces per-platform limits: refuse, or evict the least recently used", async () => {
    const refuse = await createTenant({ config: { session: { perPlatform: { ios: 1 }, overflow: "refuse" } } });
    const u = await registerUser(refuse.slug, { device: { id: "iphone", name: "", platform: "ios" } });
    await expectProblem(
      await login(refuse.slug, u.username, u.password, {}, { id: "ipad", name: "", platform: "ios" }),
      409,
      "session_limit",
    );
    expect(
      (await login(refuse.slug, u.username, u.password, {}, { id: "mac", name: "", platform: "desktop" })).status,
    ).toBe(200);

    const evict = await createTenant({ config: { session: { perPlatform: { ios: 1 }, overflow: "evict_oldest" } } });
    const v = await registerUser(evict.slug, { device: { id: "iphone", name: "", platform: "ios" } });
    const ipad = await login(evict.slug, v.username, v.password, {}, { id: "ipad", name: "", platform: "ios" });
    expect(ipad.status).toBe(200);
    await expectProblem(
      await call("/v1/me", { tenant: evict.slug, headers: bearer(v.tokens.accessToken) }),
      401,
      "session_revoked",
    );
  });
});
