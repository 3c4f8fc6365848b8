import { createExecutionContext, createMessageBatch, env, getQueueResult } from "cloudflare:test";
import { eq } from "drizzle-orm";
import { describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { emailChallenges } from "../../src/db/tenant/schema";
import { newId } from "../../src/lib/ids";
import { as, bearer, login, password, registerUser } from "./auth-helpers";
import { call, createTenant, expectProblem, postJson, tenantDbOf } from "./helpers";
import { codeOf, freshAddress, inbox, linkToken, mailTo } from "./mail-helpers";
import { mfaUser } from "./mfa-helpers";
import { cloudEvent, deliverEvents } from "./webhook-helpers";

describe("email flows under attack", () => {
  it("an expired link is refused, and so is its code", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("expired") });
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const mail = await mailTo(u.email, /reset/i);
    // The clock moves: the challenge's expiry is set into the past, as 15 minutes later.
    const { db } = await tenantDbOf(t.slug);
    await db
      .update(emailChallenges)
      .set({ expiresAt: Date.now() - 1 })
      .where(eq(emailChallenges.userId, u.userId))
      .run();
    await expectProblem(
      await postJson(t.slug, "/v1/auth/password/reset/confirm", { token: linkToken(mail), newPassword: password() }),
      400,
      "invalid_email_token",
    );
    await expectProblem(
      await postJson(t.slug, "/v1/auth/password/reset/confirm", {
        email: u.email,
        code: codeOf(mail),
        newPassword: password(),
      }),
      400,
      "invalid_email_token",
    );
    expect((await login(t.slug, u.email, u.password)).status).toBe(200);
  });

  it("two confirmations racing with one link: exactly one sets its password", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("racing") });
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const token = linkToken(await mailTo(u.email, /reset/i));
    const passwords = [password(), password(), password()];
    const answers = await Promise.all(
      passwords.map((p) => postJson(t.slug, "/v1/auth/password/reset/confirm", { token, newPassword: p })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([204, 400, 400]);
    const winner = passwords[answers.findIndex((a) => a.status === 204)]!;
    const signIns = await Promise.all(passwords.map((p) => login(t.slug, u.email, p)));
    expect(signIns.map((r) => r.status)).toEqual(passwords.map((p) => (p === winner ? 200 : 401)));
  });

  it("a reset and a change of address confirmed at once both apply: only the new address and password sign in", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("both") });
    const next = freshAddress("moved");
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const resetToken = linkToken(await mailTo(u.email, /reset/i));
    const asked = await postJson(
      t.slug,
      "/v1/me/email",
      { newEmail: next, password: u.password },
      bearer(u.tokens.accessToken),
    );
    expect(asked.status, await asked.clone().text()).toBe(202);
    const changeToken = linkToken(await mailTo(next, /confirm|new/i));
    const fresh = password();
    const [reset, change] = await Promise.all([
      postJson(t.slug, "/v1/auth/password/reset/confirm", { token: resetToken, newPassword: fresh }),
      postJson(t.slug, "/v1/auth/email/change/confirm", { token: changeToken }),
    ]);
    // Two different challenges, neither ends the other: both apply, in whichever order.
    expect(reset.status, await reset.clone().text()).toBe(204);
    expect(change.status, await change.clone().text()).toBe(200);
    expect(await change.json()).toEqual({ email: next });
    // The reset signs every session out (its documented contract); only the new pair signs in.
    await expectProblem(await call("/v1/me", as(t.slug, u)), 401, "session_revoked");
    await expectProblem(await login(t.slug, u.email, fresh), 401, "invalid_credentials");
    await expectProblem(await login(t.slug, next, u.password), 401, "invalid_credentials");
    const signIn = await login(t.slug, next, fresh);
    expect(signIn.status, await signIn.clone().text()).toBe(200);
    const { accessToken } = await signIn.json<{ accessToken: string }>();
    const me = await call("/v1/me", { tenant: t.slug, headers: bearer(accessToken) });
    expect(await me.json()).toMatchObject({ email: next, emailVerified: true });
  });

  it("a reset keeps MFA: the next sign-in still asks for the second factor", async () => {
    const { t, u } = await mfaUser();
    await postJson(t.slug, "/v1/auth/password/reset", { email: u.email });
    const fresh = password();
    const r = await postJson(t.slug, "/v1/auth/password/reset/confirm", {
      token: linkToken(await mailTo(u.email, /reset/i)),
      newPassword: fresh,
    });
    expect(r.status).toBe(204);
    const signIn = await login(t.slug, u.email, fresh);
    expect(await signIn.json()).toMatchObject({ mfaRequired: true });
  });

  it("a redelivered request event makes no second challenge and no second mail", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("redelivered") });
    await mailTo(u.email, /confirm/i);
    const { id, db } = await tenantDbOf(t.slug);
    const event = {
      specversion: "1.0",
      id: newId(),
      source: `/tenants/${id}`,
      type: "auth.password_reset_requested",
      tenantid: id,
      time: new Date().toISOString(),
      datacontenttype: "application/json",
      data: { email: u.email },
    };
    for (let i = 0; i < 2; i++) {
      const batch = createMessageBatch("canopy-notification", [
        { id: `m${i}-${event.id}`, timestamp: new Date(), attempts: i + 1, body: event },
      ]);
      const ctx = createExecutionContext();
      await worker.queue(batch, env, ctx);
      expect((await getQueueResult(batch, ctx)).explicitAcks).toHaveLength(1);
    }
    const rows = await db.select().from(emailChallenges).where(eq(emailChallenges.eventId, event.id)).all();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.sealed).toBeNull();
    expect((await inbox(u.email)).filter((m) => /reset/i.test(m.subject))).toHaveLength(1);
  });

  it("a reset's queued event ends the sessions opened before it, even if the revoke after the commit never ran", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("durable") });
    const { id } = await tenantDbOf(t.slug);
    // The event a reset writes in its own transaction, delivered as if the hub call after the
    // commit had failed: nothing else has revoked the registration's session.
    const event = cloudEvent(id, "user.password_changed", { userId: u.userId, reason: "reset" });
    await new Promise((r) => setTimeout(r, 5));
    const later = await login(t.slug, u.email, u.password);
    const { accessToken } = await later.json<{ accessToken: string }>();
    expect((await call("/v1/me", as(t.slug, u))).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      // The second delivery is a redelivery: it changes nothing.
      expect((await deliverEvents([event])).explicitAcks).toHaveLength(1);
      await expectProblem(await call("/v1/me", as(t.slug, u)), 401, "session_revoked");
      expect((await call("/v1/me", { tenant: t.slug, headers: bearer(accessToken) })).status).toBe(200);
    }
  });

  it("a mail the provider refuses for good is dropped, and the event's other consumers go on", async () => {
    const t = await createTenant();
    const u = await registerUser(t.slug, { email: freshAddress("refused") });
    const { id } = await tenantDbOf(t.slug);
    const event = {
      specversion: "1.0",
      id: newId(),
      source: `/tenants/${id}`,
      type: "user.password_changed",
      tenantid: id,
      time: new Date().toISOString(),
      datacontenttype: "application/json",
      data: { userId: u.userId, reason: "change" },
    };
    // A marker that is dead-lettered for sure: an announcement event without its announcement.
    const marker = { ...event, id: newId(), type: "announcement.created", data: {} };
    const batch = createMessageBatch("canopy-notification", [
      { id: `m-${event.id}`, timestamp: new Date(), attempts: 1, body: event },
      { id: `m-${marker.id}`, timestamp: new Date(), attempts: 1, body: marker },
    ]);
    const ctx = createExecutionContext();
    // Mail not configured (no key): a refusal retrying cannot fix.
    await worker.queue(batch, { ...env, MAIL_API_KEY: "" }, ctx);
    const result = await getQueueResult(batch, ctx);
    expect(result.explicitAcks).toHaveLength(2);
    expect(result.retryMessages).toEqual([]);
    const dead = async () =>
      (
        await (
          await call(`/admin/v1/dead-letters?tenantId=${id}`, { admin: true })
        ).json<{
          items: { eventId: string | null }[];
        }>()
      ).items.map((d) => d.eventId);
    await vi.waitFor(async () => expect(await dead()).toContain(marker.id), { timeout: 15_000, interval: 300 });
    expect(await dead()).not.toContain(event.id);
  });

  it("known and unknown addresses: the same answer, and timing within a loose bound", async () => {
    const t = await createTenant({ config: { auth: { emailRequestsPerHour: 1000 } } });
    const u = await registerUser(t.slug, { email: freshAddress("timing") });
    const time = async (email: string) => {
      const started = performance.now();
      const res = await call("/v1/auth/password/reset", {
        method: "POST",
        tenant: t.slug,
        json: { email },
        headers: { "cf-connecting-ip": `10.9.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}` },
      });
      const body = await res.text();
      return { ms: performance.now() - started, status: res.status, body };
    };
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 9; i++) {
      const a = await time(u.email);
      const b = await time(freshAddress("nobody"));
      expect([a.status, a.body]).toEqual([b.status, b.body]);
      known.push(a.ms);
      unknown.push(b.ms);
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
    // The request path never reads the account, so both take the same work; the bound is loose
    // because workerd's clock only advances on I/O and the machine is shared.
    const ratio = median(known) / Math.max(median(unknown), 0.5);
    console.log(
      `reset request: known ${median(known).toFixed(1)} ms, unknown ${median(unknown).toFixed(1)} ms (medians of 9)`,
    );
    expect(ratio, `known ${median(known)} ms vs unknown ${median(unknown)} ms`).toBeLessThan(3);
    expect(ratio).toBeGreaterThan(1 / 3);
  });
});
