import { describe, expect, it } from "vitest";
import { bearer, login, password, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem, tenantDbOf } from "./helpers";

const ip = (n: number) => ({ "cf-connecting-ip": `198.51.100.${n}` });

describe("registration", () => {
  it("enforces the password policy (length, blocklist, own identifiers) without composition rules", async () => {
    const t = await createTenant();
    const reg = (pw: string, username = `u${crypto.randomUUID().slice(0, 8)}`) =>
      call("/v1/auth/register", { method: "POST", tenant: t.slug, json: { username, password: pw } });
    await expectProblem(await reg("short"), 400, "weak_password");
    await expectProblem(await reg("password123"), 400, "weak_password");
    await expectProblem(await reg("iloveyou2"), 400, "weak_password");
    await expectProblem(await reg("x".repeat(129)), 400, "weak_password");
    await expectProblem(await reg("alice-the-great-1", "alice"), 400, "weak_password");
    expect((await reg("all lowercase words are fine")).status).toBe(201);
    expect((await reg("🌲".repeat(8) + "長いパスワード")).status).toBe(201);
    expect((await reg("a".repeat(64) + "b")).status).toBe(201);
  });

  it("answers every identifier conflict the same way", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const byEmail = await call("/v1/auth/register", {
      method: "POST",
      tenant: t.slug,
      json: { email: u.email.toUpperCase(), password: password() },
    });
    const byName = await call("/v1/auth/register", {
      method: "POST",
      tenant: t.slug,
      json: { username: u.username, password: password() },
    });
    const a = await expectProblem(byEmail, 409, "account_unavailable");
    const b = await expectProblem(byName, 409, "account_unavailable");
    expect(a.detail).toBe(b.detail);
  });

  it("rejects malformed and hostile bodies with 4xx, never 500", async () => {
    const t = await createTenant();
    const post = (body: string, type = "application/json") =>
      call("/v1/auth/register", { method: "POST", tenant: t.slug, body, headers: { "content-type": type } });
    await expectProblem(await post("{"), 400, "malformed_json");
    await expectProblem(await post("[]"), 400, "validation_failed");
    await expectProblem(await post(JSON.stringify({ password: password() })), 400, "validation_failed");
    await expectProblem(
      await post(JSON.stringify({ email: "not-an-email", password: password() })),
      400,
      "validation_failed",
    );
    await expectProblem(
      await post(JSON.stringify({ username: "ok_name", password: password(), role: "owner" })),
      400,
      "validation_failed",
    );
    await expectProblem(
      await post(JSON.stringify({ username: "ok_name", password: password() }), "text/plain"),
      415,
      "unsupported_media_type",
    );
    await expectProblem(
      await post(JSON.stringify({ username: "x".repeat(5000), password: "y".repeat(2 * 1024 * 1024) })),
      413,
      "body_too_large",
    );
  });

  it("is refused when the tenant closed registration", async () => {
    const t = await createTenant({ config: { signIn: { registration: "closed" } } });
    await expectProblem(
      await call("/v1/auth/register", {
        method: "POST",
        tenant: t.slug,
        json: { username: "someone", password: password() },
      }),
      403,
      "registration_closed",
    );
  });
});

describe("login", () => {
  it("does not reveal whether an account exists", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const unknown = await login(t.slug, "nobody@example.test", "whatever-password", ip(1));
    const wrong = await login(t.slug, u.email, "whatever-password", ip(2));
    const a = await expectProblem(unknown, 401, "invalid_credentials");
    const b = await expectProblem(wrong, 401, "invalid_credentials");
    expect(a.detail).toBe(b.detail);
  });

  it("locks an (account, address) pair out after repeated failures; spoofed forwarding headers do not help", async () => {
    const t = await createTenant({ config: { auth: { maxFailures: 3, lockoutSeconds: 60 } } });
    const u = await registerUser(t.slug);
    for (let i = 0; i < 3; i++)
      await expectProblem(
        await login(t.slug, u.username, "wrong-password", { ...ip(10), "x-forwarded-for": `203.0.113.${i}` }),
        401,
        "invalid_credentials",
      );
    // Even the right password is refused from that address, whatever forwarding headers claim.
    const locked = await login(t.slug, u.username, u.password, {
      ...ip(10),
      "x-forwarded-for": "1.2.3.4",
      "x-real-ip": "5.6.7.8",
    });
    await expectProblem(locked, 429, "rate_limited");
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(locked.headers.get("ratelimit-policy")).toContain("q=3");
    // Case or spacing variants of the identifier are the same account.
    await expectProblem(await login(t.slug, ` ${u.username.toUpperCase()} `, u.password, ip(10)), 429, "rate_limited");
    // Another account from the same address is unaffected.
    const v = await registerUser(t.slug);
    expect((await login(t.slug, v.username, v.password, ip(10))).status).toBe(200);
  });

  it("the victim is not locked out by an attacker: another address signs in; a known device signs in through a global flood", async () => {
    const t = await createTenant({
      config: { auth: { maxFailures: 3, accountFailuresPerMinute: 6, lockoutSeconds: 60 } },
    });
    const victim = await registerUser(t.slug);
    const device = victim.tokens.deviceToken!;
    expect(device).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    // The attacker, from one address, exhausts its pair's budget: only that address is locked.
    for (let i = 0; i < 3; i++)
      await expectProblem(await login(t.slug, victim.username, "guess-1", ip(66)), 401, "invalid_credentials");
    await expectProblem(await login(t.slug, victim.username, victim.password, ip(66)), 429, "rate_limited");
    expect((await login(t.slug, victim.username, victim.password, ip(1))).status).toBe(200);
    // The attacker rotates addresses: the account's global backoff refuses new devices for under a minute…
    for (let i = 0; i < 6; i++) await login(t.slug, victim.username, `guess-${i}`, ip(100 + i));
    const slowed = await login(t.slug, victim.username, victim.password, ip(2));
    await expectProblem(slowed, 429, "rate_limited");
    expect(Number(slowed.headers.get("retry-after"))).toBeLessThanOrEqual(60);
    // …but the victim's own device, which signed in before, is not locked by failures from elsewhere.
    const res = await call("/v1/auth/login", {
      method: "POST",
      tenant: t.slug,
      headers: ip(66),
      json: { identifier: victim.username, password: victim.password, deviceToken: device },
    });
    expect(res.status, await res.clone().text()).toBe(200);
    expect((await res.json<{ deviceToken?: string }>()).deviceToken).toBeTruthy();
  });

  it("a device token helps only its own account and only with the right password; wrong guesses on it lock it alone", async () => {
    const t = await createTenant({
      config: { auth: { maxFailures: 2, accountFailuresPerMinute: 3, lockoutSeconds: 60 } },
    });
    const [victim, attacker] = [await registerUser(t.slug), await registerUser(t.slug)];
    const withDevice = (who: typeof victim, pw: string, deviceToken: string, at = 70) =>
      call("/v1/auth/login", {
        method: "POST",
        tenant: t.slug,
        headers: ip(at),
        json: { identifier: who.username, password: pw, deviceToken },
      });
    // The attacker's own (valid) device token does not exempt guesses at the victim's account.
    for (let i = 0; i < 3; i++) await withDevice(victim, `guess-${i}`, attacker.tokens.deviceToken!, 80 + i);
    await expectProblem(
      await withDevice(victim, victim.password, attacker.tokens.deviceToken!, 90),
      429,
      "rate_limited",
    );
    // Nor does a device token of the same-looking account in another tenant (other keys, issuer).
    const elsewhere = await createTenant();
    const twin = await registerUser(elsewhere.slug, { username: victim.username, email: victim.email });
    await expectProblem(await withDevice(victim, victim.password, twin.tokens.deviceToken!, 92), 429, "rate_limited");
    // A forged token is simply not trusted.
    await expectProblem(
      await withDevice(victim, victim.password, `${victim.tokens.deviceToken!.slice(0, -4)}AAAA`, 91),
      429,
      "rate_limited",
    );
    // The victim's token still opens; wrong passwords on it count against that token alone.
    expect((await withDevice(victim, victim.password, victim.tokens.deviceToken!)).status).toBe(200);
    for (let i = 0; i < 2; i++)
      await expectProblem(
        await withDevice(victim, "nope-nope", victim.tokens.deviceToken!),
        401,
        "invalid_credentials",
      );
    await expectProblem(await withDevice(victim, victim.password, victim.tokens.deviceToken!), 429, "rate_limited");
  });

  it("throttles one address spraying many accounts", async () => {
    const t = await createTenant({ config: { auth: { maxFailuresPerAddress: 4, lockoutSeconds: 60 } } });
    for (let i = 0; i < 4; i++)
      await expectProblem(
        await login(t.slug, `spray${i}@example.test`, "Password1!", ip(50)),
        401,
        "invalid_credentials",
      );
    await expectProblem(await login(t.slug, "spray9@example.test", "Password1!", ip(50)), 429, "rate_limited");
    expect((await login(t.slug, "spray9@example.test", "Password1!", ip(51))).status).toBe(401);
  });

  it("refuses suspended accounts and revokes their sessions at once", async () => {
    const { tenantWithOwner } = await import("./auth-helpers");
    const { tenant: t, owner } = await tenantWithOwner();
    const u = await registerUser(t.slug);
    const s = await call(`/v1/admin/users/${u.userId}/suspend`, {
      method: "POST",
      tenant: t.slug,
      headers: bearer(owner.tokens.accessToken),
    });
    expect(s.status).toBe(200);
    await expectProblem(
      await call("/v1/me", { tenant: t.slug, headers: bearer(u.tokens.accessToken) }),
      401,
      "account_inactive",
    );
    await expectProblem(await login(t.slug, u.username, u.password), 403, "account_suspended");
    await expectProblem(
      await call("/v1/auth/refresh", { method: "POST", tenant: t.slug, json: { refreshToken: u.tokens.refreshToken } }),
      401,
      "invalid_refresh_token",
    );
    expect(
      (
        await call(`/v1/admin/users/${u.userId}/resume`, {
          method: "POST",
          tenant: t.slug,
          headers: bearer(owner.tokens.accessToken),
        })
      ).status,
    ).toBe(200);
    expect((await login(t.slug, u.username, u.password)).status).toBe(200);
  });
});

describe("password hashes", () => {
  it("are upgraded to the current parameters on the next successful login", async () => {
    const { findUserById, updateUser } = await import("../../src/db/tenant/users");
    const { hashPassword, PBKDF2_ITERATIONS } = await import("../../src/lib/password");
    const t = await createTenant();
    const u = await registerUser(t.slug);
    const { db } = await tenantDbOf(t.slug);
    await updateUser(db, u.userId, { passwordHash: await hashPassword(u.password, 1000) });
    expect((await login(t.slug, u.username, u.password)).status).toBe(200);
    expect((await findUserById(db, u.userId))!.passwordHash).toContain(`$i=${PBKDF2_ITERATIONS}$`);
    expect((await login(t.slug, u.username, u.password)).status).toBe(200);
  });
});
